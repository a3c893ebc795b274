/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-backend.h: applies the policy engine's actions: the drop-in, modules via libkmod, the pinned VM, /dev/kvm. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "policy.h"

struct kmod_ctx;

typedef struct kvm_backend kvm_backend;

int kvm_backend_new(kvm_backend **ret);
kvm_backend *kvm_backend_free(kvm_backend *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(kvm_backend *, kvm_backend_free);

/*
 * The libkmod context, created on first use.  It reads modprobe.d at
 * creation, so it is dropped whenever virtd rewrites its drop-in (and after
 * each reconcile, so an idle daemon does not keep the module indexes mapped).
 */
struct kmod_ctx *kvm_backend_kmod(kvm_backend *b);
void kvm_backend_drop_kmod(kvm_backend *b);

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
 * is loaded already.  ERR as above.
 */
int kvm_backend_load_module(kvm_backend *b, const char *name, const char *options, char *err, size_t err_size);
int kvm_backend_unload_module(kvm_backend *b, const char *name, char *err, size_t err_size);

/* Explains a failed module load: not built for this kernel, signature refused, ... (pure). */
const char *module_load_error_hint(int r);

/* One line that says what the action does, for the journal (pure). */
void action_describe(const struct action *a, const char *vendor, char *buf, size_t size);
