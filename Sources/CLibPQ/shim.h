#ifndef TELEBOT_CLIBPQ_SHIM_H
#define TELEBOT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
