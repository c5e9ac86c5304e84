#ifndef TELEBOT_CLIBPQ_SHIM_H
#define TELEBOT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
/* PGClient's reactor waits on libpq's sockets with epoll. */
#include <sys/epoll.h>
/* ... and is woken for queued tasks through an eventfd (it is also a task executor: PGReactor+Executor.swift). */
#include <sys/eventfd.h>
#endif
