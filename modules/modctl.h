/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The modules' path to this knotd's control socket: the module's own
 * 'control' item if set, else control.listen (default knot.sock), relative
 * paths taken from server.rundir, as knotc does. Header only, included by
 * the modules that send control commands (mod-dsync, mod-keys).
 */
#ifndef ZONEGATE_MODULES_MODCTL_H
#define ZONEGATE_MODULES_MODCTL_H

#include <stdio.h>

#include <knot/module.h>

/* Writes the control socket path into out; item is the module's 'control'
 * value or NULL. */
static inline void zg_modctl_path(knotd_mod_t *mod, const char *item, char *out, size_t len)
{
	knotd_conf_t listen = knotd_conf(mod, (const yp_name_t *)"\x07""control",
	                                 (const yp_name_t *)"\x06""listen", NULL);
	knotd_conf_t rundir = knotd_conf(mod, (const yp_name_t *)"\x06""server",
	                                 (const yp_name_t *)"\x06""rundir", NULL);
	const char *p = item;
	if (p == NULL) {
		p = listen.single.string != NULL ? listen.single.string : "knot.sock";
	}
	if (p[0] == '/' || rundir.single.string == NULL) {
		snprintf(out, len, "%s", p);
	} else {
		snprintf(out, len, "%s/%s", rundir.single.string, p);
	}
}

#endif /* ZONEGATE_MODULES_MODCTL_H */
