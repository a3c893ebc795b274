/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progs-common.h: helpers shared by the guest test programs (tests/vm/progs). */
#pragma once
#include <signal.h>
#include <stdbool.h>

/* The errno's name (EINVAL), or its number where the C library has no name. */
const char *errname(int e);

/* CLOCK_MONOTONIC in microseconds. */
long long now_us(void);

/* A decimal number >= 0 (seconds, counts): 0 and *ret, or -EINVAL. */
int parse_positive(const char *s, long *ret);

/* The SIGTERM or SIGINT catch_release_signals() saw, 0 before. */
extern volatile sig_atomic_t got_signal;

/* SIGTERM and SIGINT set got_signal, without SA_RESTART: a poll() in
 * hold_until_released() returns, so that what is held is let go. */
void catch_release_signals(void);

/*
 * Waits until SIGTERM/SIGINT, input or EOF on stdin when @watch_stdin, or
 * @hold_s seconds (never when < 0); returns what ended the wait ("SIGTERM",
 * "SIGINT", "stdin", "hold expired" or "poll failed").
 */
const char *hold_until_released(long hold_s, bool watch_stdin);
