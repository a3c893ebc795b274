/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl.h: the verbs virtctl dispatches to, one file each. */
#pragma once

/* Each verb gets argv with argv[0] = its own name and returns an exit code. */
int verb_hw(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_reload(int argc, char *argv[]);
int verb_lock(int argc, char *argv[]);
int verb_probe(int argc, char *argv[]);
