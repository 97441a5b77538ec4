/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <string.h>

#include "core/format.h"

int zg_format_parse(const char *name, zg_format_t *out)
{
	static const char *const names[] = { "text", "json", "nagios" };
	for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (zg_format_t)i;
			return 0;
		}
	}
	return -1;
}

zg_format_t zg_format_prescan(int argc, char *const *argv)
{
	zg_format_t f = ZG_FORMAT_TEXT;
	for (int i = 1; i < argc; i++) {
		const char *name = NULL;
		if (strcmp(argv[i], "--") == 0) {
			break;
		}
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			name = argv[i] + 9;
		}
		if (name != NULL && zg_format_parse(name, &f) != 0) {
			f = ZG_FORMAT_TEXT;
		}
	}
	return f;
}
