/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-backend.h: applies the policy engine's actions: the drop-in, modules via the helper virtd-kmod, the pinned VM, /dev/kvm. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kmod-proto.h"
#include "macro.h"
#include "observe.h"
#include "policy.h"

typedef struct kvm_backend kvm_backend;

int kvm_backend_new(kvm_backend **ret);
kvm_backend *kvm_backend_free(kvm_backend *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(kvm_backend *, kvm_backend_free);

/* The module helper virtd-kmod (kmod-proto.h): $VIRTD_KMOD_HELPER, else where make install put it. */
const char *kvm_backend_helper_path(void);

/*
 * The helper's socket, $VIRTD_KMOD_SOCKET (virtd.service sets it to
 * virtd-kmod.socket's), or NULL: then virtd runs the helper as its child.
 */
const char *kvm_backend_helper_socket(void);

/*
 * What modprobe would find for NAME, asked of the helper; the answer is
 * kept while /lib/modules/RELEASE/modules.dep stays the same file, so an
 * observation runs no helper.  USERDATA is the kvm_backend (observe.h's
 * module_file_fn).  0, or a negative errno (logged).
 */
int kvm_backend_module_file(void *userdata, const char *name, struct module_file *ret);

bool kvm_backend_has_pinned_vm(const kvm_backend *b);

/*
 * Applies one action.  VENDOR is the vendor module ("kvm_intel"/"kvm_amd"),
 * POLICY the policy's name for the drop-in's comment.  On failure returns a
 * negative errno and puts a message that says what failed and what to do
 * into ERR.
 */
int kvm_backend_apply(kvm_backend *b, const struct action *a, const char *vendor, const char *policy,
		      char *err, size_t err_size);

/*
 * Loads NAME with its dependencies, OPTIONS appended to modprobe.d's, past
 * any "install" command (virtd's own block must not stop virtd).  0 when it
 * is loaded already.  ERR as above.  Both run the helper and wait for it.
 */
int kvm_backend_load_module(kvm_backend *b, const char *name, const char *options, char *err, size_t err_size);
int kvm_backend_unload_module(kvm_backend *b, const char *name, char *err, size_t err_size);


/* One line that says what the action does, for the journal (pure). */
void action_describe(const struct action *a, const char *vendor, char *buf, size_t size);
