#ifndef TELEBOT_CLIBPQ_SHIM_H
#define TELEBOT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
/* PGClient's reactor waits on libpq's sockets with epoll. */
#include <sys/epoll.h>
#endif
