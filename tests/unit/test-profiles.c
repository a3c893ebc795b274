/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-profiles.c: the hypervisor profile parser (every kind of bad input,
 * each an error or warning naming file:line and what to do), loading from
 * directories (/etc replacing the package's, broken files, clashing names),
 * and the mode choice table (vendor x kernel x override).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "profiles.h"
#include "tests.h"

static bool diag_has(const struct config_diag *d, enum config_severity sev, const char *needle)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].severity == sev && strstr(d->entries[i].message, needle))
			return true;
	return false;
}

static void dump(const struct config_diag *d)
{
	for (size_t i = 0; i < d->n_entries; i++)
		printf("#   %s %s\n", d->entries[i].severity == CONFIG_ERROR ? "error:" : "warning:",
		       d->entries[i].message);
}

#define HEAD "[Profile]\nModules=m\n"

/* Files that are refused: every needle must be in one error message. */
static const struct bad {
	const char *name;
	const char *text;
	const char *needles[3];
} bads[] = {
	{ "unknown vendor", HEAD "[Mode]\nRule = arm any exclusive why\n",
	  { "p.conf:4: invalid Rule= 'arm any exclusive why' in [Mode] (unknown vendor)", "one of any, intel, amd" } },
	{ "bad kernel: no comparison", HEAD "[Mode]\nRule = intel 6.16 shared why\n",
	  { "p.conf:4: invalid Rule=", "(bad kernel condition)", "KERNEL any, >=X.Y or <X.Y" } },
	{ "bad kernel: no minor", HEAD "[Mode]\nRule = intel >=6 shared why\n", { "p.conf:4:", "(bad kernel condition)" } },
	{ "bad kernel: trailing text", HEAD "[Mode]\nRule = intel <6.16rc1 shared why\n",
	  { "p.conf:4:", "(bad kernel condition)" } },
	{ "bad kernel: huge", HEAD "[Mode]\nRule = intel >=99999.1 shared why\n", { "p.conf:4:", "(bad kernel condition)" } },
	{ "bad mode", HEAD "[Mode]\nRule = amd any sometimes why\n",
	  { "p.conf:4:", "(bad mode)", "MODE shared or exclusive" } },
	{ "auto is no rule's mode", HEAD "[Mode]\nRule = amd any auto why\n", { "p.conf:4:", "(bad mode)" } },
	{ "no reason", HEAD "[Mode]\nRule = amd any exclusive\n", { "p.conf:4: invalid Rule=", "expected VENDOR KERNEL" } },
	{ "too few words", HEAD "[Mode]\nRule = amd\n", { "p.conf:4: invalid Rule= 'amd'", "e.g. 'amd any exclusive" } },
	{ "a key twice", "[Profile]\nModules=a\nDevices=/dev/x\n\nmodules=b\n",
	  { "p.conf:5: Modules= in [Profile] is set again (first on line 2)", "put all its entries on one line" } },
	{ "Who= twice", "[Profile]\nWho=a\nWho=b\n", { "p.conf:3: Who= in [Profile] is set again (first on line 2)" } },
	{ "device outside /dev", "[Profile]\nDevices=/dev/ok /etc/shadow\n",
	  { "p.conf:2: invalid entry '/etc/shadow' of Devices= in [Profile]", "expected a path under /dev/" } },
	{ "device escaping /dev", "[Profile]\nDevices=/dev/../etc/x\n", { "p.conf:2: invalid entry '/dev/../etc/x'" } },
	{ "hand-off program not absolute", "[Profile]\nWho=a\nHandOffPrograms=/usr/bin/ok bin/vm\n",
	  { "p.conf:3: invalid entry 'bin/vm' of HandOffPrograms= in [Profile]", "expected an absolute path" } },
	{ "hand-off program escaping", "[Profile]\nWho=a\nHandOffPrograms=/usr/../x\n",
	  { "p.conf:3: invalid entry '/usr/../x' of HandOffPrograms=" } },
	{ "nothing to recognise it by", "[Profile]\nDescription=x\nProcesses=p\n",
	  { "p.conf: the profile names no Modules=, Devices= or Who= in [Profile]" } },
	{ "VersionModule= two words", HEAD "VersionModule=a b\n",
	  { "p.conf:3: invalid VersionModule= in [Profile]: expected one module name" } },
	{ "syntax: no =", HEAD "Processes\n", { "p.conf:3: syntax error: expected '[Section]' or 'Key=Value', got 'Processes'" } },
	{ "syntax: open section", "[Profile\nModules=m\n", { "p.conf:1: syntax error", "got '[Profile'" } },
	{ "nine modules", "[Profile]\nModules=a b c d e f g h i\n", { "p.conf:2: Modules= lists more than 8 entries" } },
	{ "an overlong entry", "[Profile]\nModules=m\nProcesses=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  { "p.conf:3: an entry of Processes= is longer than 63 bytes" } },
	{ "an overlong description", HEAD "Description=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\n",
	  { "p.conf:3: Description= in [Profile] is longer than 63 bytes: shorten it" } },
};

/* Files that parse, with the warning they must carry. */
static const struct warn {
	const char *name;
	const char *text;
	const char *warning;
} warns[] = {
	{ "unknown key", HEAD "Colour=blue\n",
	  "p.conf:3: unknown key 'Colour' in [Profile], ignoring it (known keys: Description=, Modules=" },
	{ "unknown key in [Mode]", HEAD "[Mode]\nDefault=shared\n", "p.conf:4: unknown key 'Default' in [Mode], ignoring it (known keys: Rule=)" },
	{ "unknown section", HEAD "[Modes]\nRule=amd any shared x\n",
	  "p.conf:4: unknown section [Modes], ignoring its keys (known sections: [Profile], [Mode])" },
	{ "version without modules", "[Profile]\nWho=x\nVersionModule=x\n", "p.conf: VersionModule= without Modules=" },
};

static void test_parse(void)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	struct hv_profile p, before;
	char *text;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(bads); i++) {
		memset(&p, 0x5a, sizeof(p));
		before = p;
		r = profile_parse_string(bads[i].text, "p", "p.conf", &p, &d);
		CHECK(r == -EINVAL && d.n_errors > 0 && memcmp(&p, &before, sizeof(p)) == 0, "%s: refused, untouched (%d)",
		      bads[i].name, r);
		for (size_t k = 0; k < ELEMENTSOF(bads[i].needles) && bads[i].needles[k]; k++)
			CHECK(diag_has(&d, CONFIG_ERROR, bads[i].needles[k]), "%s: an error names \"%s\"", bads[i].name,
			      bads[i].needles[k]);
		if (tests_failed)
			dump(&d);
		config_diag_done(&d);
		/* The same verdict without diagnostics. */
		CHECK(profile_parse_string(bads[i].text, "p", "p.conf", &p, NULL) == -EINVAL, "%s: refused without diags",
		      bads[i].name);
	}
	for (size_t i = 0; i < ELEMENTSOF(warns); i++) {
		r = profile_parse_string(warns[i].text, "p", "p.conf", &p, &d);
		CHECK(r == 0 && d.n_errors == 0 && diag_has(&d, CONFIG_WARNING, warns[i].warning), "%s: parses, warns \"%s\"",
		      warns[i].name, warns[i].warning);
		if (tests_failed)
			dump(&d);
		config_diag_done(&d);
	}

	/* A good one, every key. */
	r = profile_parse_string("# c\n[Profile]\nDescription = Some HV\nModules = a  b\tc\nVersionModule=a\n"
				 "Devices=/dev/a /dev/b\nProcesses=hv-vm hvd\nWho=hv HV-tool\n[Mode]\n"
				 "Rule = intel >=6.16 shared  runs inside KVM\nRule=any <5.0 exclusive old\n"
				 "Rule = amd any exclusive sets SVME\n", "hv", "hv.conf", &p, &d);
	CHECK(r == 0 && d.n_entries == 0, "every key: parses cleanly");
	CHECK_STR(p.name, "hv", "the name is the file's");
	CHECK_STR(p.description, "Some HV", "Description=");
	CHECK(p.modules.n == 3 && strcmp(p.modules.items[2], "c") == 0, "Modules=: three, blanks and tabs");
	CHECK(p.devices.n == 2 && p.processes.n == 2 && p.who.n == 2 && p.who_line == 8, "Devices=, Processes=, Who=");
	CHECK(p.n_rules == 3 && p.rules[0].vendor == PROFILE_VENDOR_INTEL && p.rules[0].cmp == PROFILE_KERNEL_AT_LEAST &&
	      p.rules[0].major == 6 && p.rules[0].minor == 16 && p.rules[0].mode == HV_MODE_SHARED && p.rules[0].line == 10,
	      "the first rule, with its line");
	CHECK_STR(p.rules[0].reason, "runs inside KVM", "the reason is the rest of the line");
	CHECK(p.rules[1].vendor == PROFILE_VENDOR_ANY && p.rules[1].cmp == PROFILE_KERNEL_BELOW &&
	      p.rules[2].vendor == PROFILE_VENDOR_AMD && p.rules[2].cmp == PROFILE_KERNEL_ANY, "the other rules");
	config_diag_done(&d);

	/* Nine rules: the ninth is one too many. */
	text = strdup(HEAD "[Mode]\n" "Rule=amd any shared a\nRule=amd any shared a\nRule=amd any shared a\n"
		      "Rule=amd any shared a\nRule=amd any shared a\nRule=amd any shared a\nRule=amd any shared a\n"
		      "Rule=amd any shared a\nRule=amd any shared a\n");
	r = profile_parse_string(text, "p", "p.conf", &p, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "p.conf:12: more than 8 Rule= lines in [Mode]"),
	      "nine rules: the ninth line is named");
	config_diag_done(&d);
	free(text);

	/* A line longer than inih's buffer is refused with its length, not cut. */
	text = malloc(5000);
	memset(text, 'x', 4999);
	memcpy(text, HEAD "Description=", strlen(HEAD "Description="));
	text[4999] = '\0';
	r = profile_parse_string(text, "p", "p.conf", &p, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "p.conf:3: line too long (4979 bytes, at most"),
	      "an overlong line: refused with its line and length");
	dump(&d);
	config_diag_done(&d);
	free(text);

	/* Messages quote what they were given, never raw control bytes. */
	r = profile_parse_string(HEAD "[Mode]\nRule = \x1b[31m any shared x\n", "p", "p.conf", &p, &d);
	CHECK(r == -EINVAL && d.n_entries >= 1 && !strchr(d.entries[0].message, '\x1b'), "an escape byte is quoted");
	config_diag_done(&d);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static const struct hv_profile *find(const struct hv_profiles *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].name, name) == 0)
			return &ps->p[i];
	return NULL;
}

static void test_load(void)
{
	char top[] = "/tmp/test-profiles.XXXXXX", pkg[64], etc[64], path[512];
	const char *dirs[2] = { pkg, etc }, *shipped[] = { PROFILES_SRC_DIR };
	struct config_diag d = CONFIG_DIAG_INIT;
	static struct hv_profiles ps;
	const struct hv_profile *p;
	int r;

	/* The shipped profiles: clean, and each mode rule has its reason. */
	r = profiles_load(shipped, 1, &ps, &d);
	CHECK(r == 0 && d.n_entries == 0 && ps.n == 3 && ps.n_errors == 0, "the shipped profiles load cleanly (%zu)", ps.n);
	for (size_t i = 0; i < ps.n; i++)
		if (strcmp(ps.p[i].name, "virtualbox") == 0)
			CHECK(ps.p[i].handoff_programs.n == 3 &&
			      strcmp(ps.p[i].handoff_programs.items[0], "/usr/lib/virtualbox/VBoxHeadless") == 0 &&
			      strcmp(ps.p[i].handoff_programs.items[1], "/usr/lib/virtualbox/VirtualBoxVM") == 0 &&
			      strcmp(ps.p[i].handoff_programs.items[2], "/usr/lib/virtualbox/VBoxSDL") == 0,
			      "virtualbox's hand-off programs: its VM processes");
	dump(&d);
	config_diag_done(&d);
	p = find(&ps, "virtualbox");
	CHECK(p && p->modules.n == 3 && p->devices.n == 2 && p->n_rules == 3 && strstr(p->rules[2].reason, "VERR_SVM_IN_USE"),
	      "virtualbox: modules, device nodes, rules with their source");
	CHECK(find(&ps, "vmware") && find(&ps, "generic") && profiles_match_who(&ps, "nobody-knows") == find(&ps, "generic"),
	      "vmware and generic; generic takes unclaimed names");

	if (!mkdtemp(top)) {
		CHECK(false, "temporary directory");
		return;
	}
	snprintf(pkg, sizeof(pkg), "%s/pkg", top);
	snprintf(etc, sizeof(etc), "%s/etc", top);
	CHECK(mkdir(pkg, 0755) == 0, "package directory");

	write_file(pkg, "alpha.conf", "[Profile]\nModules=alpha\nWho=alpha-vm\n[Mode]\nRule=any any exclusive pkg\n");
	write_file(pkg, "beta.conf", "[Profile]\nModules=beta\n[Mode]\nRule=any any exclusive pkg\n");
	write_file(pkg, "gamma.conf", "[Profile]\nModules=gamma\n");
	write_file(pkg, "README", "not a profile\n");
	write_file(pkg, "bad name.conf", "[Profile]\nModules=x\n");

	/* The administrator's directory is missing: the package's alone. */
	r = profiles_load(dirs, 2, &ps, &d);
	CHECK(r == 0 && ps.n == 3 && ps.n_errors == 0 && diag_has(&d, CONFIG_WARNING, "ignoring 'bad name.conf'"),
	      "no /etc directory: three profiles, a bad file name warned about");
	config_diag_done(&d);

	/* /etc replaces alpha, breaks beta (and so beta is gone, the package's too), adds delta. */
	CHECK(mkdir(etc, 0755) == 0, "administrator's directory");
	write_file(etc, "alpha.conf", "[Profile]\nModules=alpha\n[Mode]\nRule=any any shared mine\n");
	write_file(etc, "beta.conf", "[Profile]\nModules=beta\n[Mode]\nRule=any any shard mine\n");
	write_file(etc, "delta.conf", "[Profile]\nDevices=/dev/delta\n");
	r = profiles_load(dirs, 2, &ps, &d);
	CHECK(r == 0 && ps.n == 3 && find(&ps, "alpha") && !find(&ps, "beta") && find(&ps, "gamma") && find(&ps, "delta"),
	      "override: alpha replaced, beta not used at all, gamma kept, delta added");
	p = find(&ps, "alpha");
	snprintf(path, sizeof(path), "%s/alpha.conf", etc);
	CHECK(p && strcmp(p->file, path) == 0 && p->n_rules == 1 && p->rules[0].mode == HV_MODE_SHARED &&
	      p->who.n == 0, "alpha is the administrator's file, whole (nothing merged from the package's)");
	snprintf(path, sizeof(path), "%s/alpha.conf", pkg);
	CHECK(p && strcmp(p->replaces, path) == 0, "alpha records the file it replaces");
	snprintf(path, sizeof(path), "%s/beta.conf:4: invalid Rule= 'any any shard mine' in [Mode] (bad mode)", etc);
	CHECK(ps.n_errors == 1 && strcmp(ps.errors[0].name, "beta") == 0 &&
	      strncmp(ps.errors[0].message, path, strlen(path)) == 0,
	      "beta is listed as not used, with its first error");
	snprintf(path, sizeof(path), "%s/beta.conf: not used, and neither is %s/beta.conf, which it replaces: fix this "
		 "file, or remove it to use %s/beta.conf again", etc, pkg, pkg);
	CHECK(diag_has(&d, CONFIG_ERROR, path), "the broken override's error says what to do");
	dump(&d);
	config_diag_done(&d);
	r = profiles_load(dirs, 2, &ps, NULL);
	CHECK(r == 0 && ps.n == 3 && ps.n_errors == 1 && strstr(ps.errors[0].message, "beta.conf:4:"),
	      "without diagnostics: the same profiles, the error still recorded");

	/* Names: two that differ in case only; a Who= name another profile has. */
	snprintf(path, sizeof(path), "%s/beta.conf", etc);
	unlink(path);
	write_file(etc, "Delta.conf", "[Profile]\nModules=d2\n");
	write_file(etc, "eps.conf", "[Profile]\nModules=eps\n\nWho=eps alpha-tool GAMMA\n");
	r = profiles_load(dirs, 2, &ps, &d);
	CHECK(r == 0 && find(&ps, "Delta") && !find(&ps, "delta") && !find(&ps, "eps") && find(&ps, "beta") && ps.n == 4,
	      "case clash: the first (Delta) kept; Who= clash: eps not used; beta back from the package");
	CHECK(diag_has(&d, CONFIG_ERROR, "delta.conf: the profile name delta differs only in case from") &&
	      diag_has(&d, CONFIG_ERROR, "Delta.conf's: names are compared case-insensitively, rename or remove one"),
	      "the case clash: both files named, and the fix");
	CHECK(diag_has(&d, CONFIG_ERROR, "eps.conf:4: profile eps is not used: the name 'GAMMA' in its Who= is gamma's too") &&
	      diag_has(&d, CONFIG_ERROR, "a lock's --who= must name one profile, remove it from one of them"),
	      "the Who= clash: file:line, the name, the other profile, the fix");
	CHECK(ps.n_errors == 2, "two profiles listed as not used (%zu)", ps.n_errors);
	dump(&d);
	config_diag_done(&d);

	/* An unreadable file (a directory named .conf) does not stop the others. */
	snprintf(path, sizeof(path), "%s/eps.conf", etc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/zeta.conf", etc);
	mkdir(path, 0755);
	r = profiles_load(dirs, 2, &ps, &d);
	CHECK(r == 0 && ps.n == 4 && ps.n_errors == 2 && strcmp(ps.errors[1].name, "zeta") == 0,
	      "a directory named zeta.conf: listed as not used, the rest load");
	dump(&d);
	config_diag_done(&d);

	/* Two Who= lists with one name: the later profile is the one not used, whichever directory it is in. */
	write_file(pkg, "omega.conf", "[Profile]\nModules=omega\nWho=TOOL\n");
	write_file(etc, "kappa.conf", "[Profile]\nWho=kappa-vm tool\n");
	r = profiles_load(dirs, 2, &ps, &d);
	CHECK(r == 0 && find(&ps, "kappa") && !find(&ps, "omega") &&
	      diag_has(&d, CONFIG_ERROR, "omega.conf:3: profile omega is not used: the name 'TOOL' in its Who= is "
		       "kappa's too"), "a Who= name two profiles list: the later is not used, file:line");
	config_diag_done(&d);
	rm_tree(top);
}

/* The mode choice: vendor x kernel x override, on the shipped VirtualBox profile. */
static void test_choice(void)
{
	const char *shipped[] = { PROFILES_SRC_DIR };
	static struct hv_profiles ps;
	static const struct row {
		enum profile_vendor vendor;
		bool known;
		unsigned major, minor;
		enum hv_mode override, want;
		const char *reason;
	} rows[] = {
		{ PROFILE_VENDOR_INTEL, true, 6, 16, HV_MODE_AUTO, HV_MODE_SHARED, "inside KVM's VMX root" },
		{ PROFILE_VENDOR_INTEL, true, 7, 3, HV_MODE_AUTO, HV_MODE_SHARED, "supdrvOSEnableHwvirt()" },
		{ PROFILE_VENDOR_INTEL, true, 6, 15, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "below 6.16" },
		{ PROFILE_VENDOR_INTEL, true, 6, 12, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "VERR_VMX_IN_VMX_ROOT_MODE" },
		{ PROFILE_VENDOR_INTEL, true, 5, 99, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "below 6.16" },
		{ PROFILE_VENDOR_AMD, true, 6, 1, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "VERR_SVM_IN_USE" },
		{ PROFILE_VENDOR_AMD, true, 7, 3, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "SUPR0GetSvmUsability()" },
		{ PROFILE_VENDOR_AMD, false, 0, 0, HV_MODE_AUTO, HV_MODE_EXCLUSIVE, "VERR_SVM_IN_USE" },
		/* Unknown kernel on Intel: no kernel rule can match, so the safe default. */
		{ PROFILE_VENDOR_INTEL, false, 0, 0, HV_MODE_AUTO, HV_MODE_EXCLUSIVE,
		  "no rule of virtualbox matches intel CPUs on kernel (unknown) 0.0" },
		{ PROFILE_VENDOR_ANY, true, 6, 16, HV_MODE_AUTO, HV_MODE_EXCLUSIVE,
		  "no rule of virtualbox matches any CPUs on kernel 6.16" },
		{ PROFILE_VENDOR_AMD, true, 6, 12, HV_MODE_SHARED, HV_MODE_SHARED,
		  "forced by Mode.virtualbox= in [Hypervisor] of virtd.conf" },
		{ PROFILE_VENDOR_INTEL, true, 7, 3, HV_MODE_EXCLUSIVE, HV_MODE_EXCLUSIVE, "forced by Mode.virtualbox=" },
		{ PROFILE_VENDOR_INTEL, false, 0, 0, HV_MODE_SHARED, HV_MODE_SHARED, "forced by Mode.virtualbox=" },
	};
	const struct hv_profile *vbox, *vmware;
	struct hv_mode_choice ch;
	unsigned major, minor;

	CHECK(profiles_load(shipped, 1, &ps, NULL) == 0, "shipped profiles for the table");
	vbox = find(&ps, "virtualbox");
	vmware = find(&ps, "vmware");
	if (!vbox || !vmware)
		return;
	for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
		const struct row *w = &rows[i];

		memset(&ch, 0x5a, sizeof(ch));
		profile_choose_mode(vbox, w->vendor, w->known, w->major, w->minor, w->override, &ch);
		CHECK(ch.mode == w->want && strstr(ch.reason, w->reason), "virtualbox on %s %s%u.%u, override %s: %s (%s)",
		      profile_vendor_to_string(w->vendor), w->known ? "" : "unknown ", w->major, w->minor,
		      hv_mode_to_string(w->override), hv_mode_to_string(w->want), ch.reason);
	}
	/* VMware: exclusive everywhere but when forced. */
	profile_choose_mode(vmware, PROFILE_VENDOR_INTEL, true, 7, 3, HV_MODE_AUTO, &ch);
	CHECK(ch.mode == HV_MODE_EXCLUSIVE && strstr(ch.reason, "vmmon"), "vmware on intel 7.3: exclusive");
	profile_choose_mode(vmware, PROFILE_VENDOR_INTEL, true, 7, 3, HV_MODE_SHARED, &ch);
	CHECK(ch.mode == HV_MODE_SHARED, "vmware forced shared");

	/* The kernel release as uname() gives it. */
	CHECK(kernel_release_parse("6.16.3-amd64", &major, &minor) == 0 && major == 6 && minor == 16, "6.16.3-amd64");
	CHECK(kernel_release_parse("7.3.0+bpo-amd64", &major, &minor) == 0 && major == 7 && minor == 3, "7.3.0+bpo");
	CHECK(kernel_release_parse("6.1", &major, &minor) == 0 && major == 6 && minor == 1, "6.1");
	CHECK(kernel_release_parse("6", &major, &minor) == -EINVAL && kernel_release_parse("", &major, &minor) == -EINVAL &&
	      kernel_release_parse(NULL, &major, &minor) == -EINVAL && kernel_release_parse("v6.1", &major, &minor) == -EINVAL,
	      "releases without MAJOR.MINOR are refused");

	/* Lock names. */
	CHECK(profiles_match_who(&ps, "VirtualBox") == vbox && profiles_match_who(&ps, "VBoxHeadless") == vbox &&
	      profiles_match_who(&ps, "vmplayer") == vmware && profiles_match_who(&ps, NULL) == NULL,
	      "who= names: by profile name or Who=, case-insensitive");
}

int main(void)
{
	test_parse();
	test_load();
	test_choice();
	return tests_finish();
}
