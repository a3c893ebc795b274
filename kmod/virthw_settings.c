// SPDX-License-Identifier: GPL-2.0
/* The preemption-timer settings and the decision the run path applies. */

#include <linux/mutex.h>
#include <linux/time64.h>

#include "virthw_internal.h"

/* KVM's own threshold: the timer must be able to express at least 10 s. */
#define VIRTHW_DEFAULT_MIN_MAX_DELAY_NS	(10ULL * NSEC_PER_SEC)

static DEFINE_MUTEX(virthw_settings_lock);
static u8 virthw_mode = VIRTHW_TIMER_MODE_AUTO;
static u64 virthw_min_max_delay_ns = VIRTHW_DEFAULT_MIN_MAX_DELAY_NS;

/*
 * KVM's rule with a configurable threshold.  Pure: everything it looks at
 * is in its arguments, so the same inputs always give the same answer.
 *   - no VMX: never (there is no preemption timer);
 *   - OFF: never;
 *   - MISC or the pin controls unreadable: never, the rate is unknown;
 *   - the pin control cannot be set: never;
 *   - ON: always, FORCED_UNSAFE when AUTO would have refused;
 *   - AUTO: not on an errata CPU, and only when 2^32 ticks last at least
 *     the minimum.
 */
void virthw_timer_decide(const struct virthw_caps *caps, u8 mode,
			 u64 min_max_delay_ns, bool *use, u8 *reason)
{
	u8 refusal = 0;

	*use = false;
	if (caps->feature != VIRTHW_FEATURE_VMX) {
		*reason = VIRTHW_TIMER_REASON_NOT_VMX;
		return;
	}
	if (mode == VIRTHW_TIMER_MODE_OFF) {
		*reason = VIRTHW_TIMER_REASON_MODE_OFF;
		return;
	}
	if (!caps->vmx_misc_valid || !caps->pin_ctl_valid) {
		*reason = VIRTHW_TIMER_REASON_UNKNOWN;
		return;
	}
	if (!caps->pin_ctl) {
		*reason = VIRTHW_TIMER_REASON_NO_PIN_CTL;
		return;
	}

	if (caps->erratum)
		refusal = VIRTHW_TIMER_REASON_ERRATUM;
	else if (caps->timer_max_ns < min_max_delay_ns)
		refusal = VIRTHW_TIMER_REASON_SHORT_MAX_DELAY;

	if (mode == VIRTHW_TIMER_MODE_ON) {
		*use = true;
		*reason = refusal ? VIRTHW_TIMER_REASON_FORCED_UNSAFE :
				    VIRTHW_TIMER_REASON_SAFE;
		return;
	}
	*use = !refusal;
	*reason = refusal ?: VIRTHW_TIMER_REASON_SAFE;
}

static int virthw_settings_fill(u8 mode, u64 min_ns,
				struct virthw_settings *set)
{
	struct virthw_caps caps;
	int ret;

	ret = virthw_caps_read(&caps);
	if (ret)
		return ret;
	set->mode = mode;
	set->min_max_delay_ns = min_ns;
	virthw_timer_decide(&caps, mode, min_ns, &set->timer_use, &set->reason);
	return 0;
}

/*
 * The decision is computed from the boot CPU's capabilities on every call
 * rather than cached: they do not change while the module is loaded, and
 * reading them is one IPI.
 */
int virthw_settings_get(struct virthw_settings *set)
{
	u8 mode;
	u64 min_ns;

	mutex_lock(&virthw_settings_lock);
	mode = virthw_mode;
	min_ns = virthw_min_max_delay_ns;
	mutex_unlock(&virthw_settings_lock);
	return virthw_settings_fill(mode, min_ns, set);
}

/* The caller has validated @mode and @min_max_delay_ns. */
int virthw_settings_set(u8 mode, u64 min_max_delay_ns,
			struct virthw_settings *set, bool *changed)
{
	struct virthw_settings old;
	int ret;

	mutex_lock(&virthw_settings_lock);
	ret = virthw_settings_fill(virthw_mode, virthw_min_max_delay_ns, &old);
	if (!ret)
		ret = virthw_settings_fill(mode, min_max_delay_ns, set);
	if (!ret) {
		virthw_mode = mode;
		virthw_min_max_delay_ns = min_max_delay_ns;
		*changed = old.mode != set->mode ||
			   old.min_max_delay_ns != set->min_max_delay_ns ||
			   old.timer_use != set->timer_use ||
			   old.reason != set->reason;
	}
	mutex_unlock(&virthw_settings_lock);
	return ret;
}
