/* SPDX-License-Identifier: GPL-3.0-or-later */
/* core/format.h: the tools' --format, read in one place. */
#include "core/format.h"
#include "tap.h"

int main(void)
{
	plan_lazy();
	zg_format_t f = ZG_FORMAT_TEXT;
	is_int(zg_format_parse("json", &f), 0, "json is a format");
	is_int(f, ZG_FORMAT_JSON, "json read");
	is_int(zg_format_parse("nagios", &f), 0, "nagios is a format");
	is_int(f, ZG_FORMAT_NAGIOS, "nagios read");
	is_int(zg_format_parse("text", &f), 0, "text is a format");
	is_int(f, ZG_FORMAT_TEXT, "text read");
	f = ZG_FORMAT_JSON;
	is_int(zg_format_parse("JSON", &f), -1, "names are lower case");
	is_int(zg_format_parse("xml", &f), -1, "xml is not a format");
	is_int(zg_format_parse(NULL, &f), -1, "NULL is not a format");
	is_int(f, ZG_FORMAT_JSON, "a refused name leaves the format unchanged");

	char *a1[] = { "tool", "-z", "test.", "--format", "nagios", "zone.db" };
	is_int(zg_format_prescan(6, a1), ZG_FORMAT_NAGIOS, "prescan: --format NAME");
	char *a2[] = { "tool", "--format=json", "zone.db" };
	is_int(zg_format_prescan(3, a2), ZG_FORMAT_JSON, "prescan: --format=NAME");
	char *a3[] = { "tool", "--format", "json", "--format", "nagios" };
	is_int(zg_format_prescan(5, a3), ZG_FORMAT_NAGIOS, "prescan: the last one counts");
	char *a4[] = { "tool", "--format", "yaml" };
	is_int(zg_format_prescan(3, a4), ZG_FORMAT_TEXT, "prescan: an unknown name is text");
	char *a5[] = { "tool", "--format" };
	is_int(zg_format_prescan(2, a5), ZG_FORMAT_TEXT, "prescan: --format without a name is text");
	char *a6[] = { "tool", "--", "--format", "json" };
	is_int(zg_format_prescan(4, a6), ZG_FORMAT_TEXT, "prescan: nothing after -- is an option");
	char *a7[] = { "tool", "-y", "--format", "zone" };
	is_int(zg_format_prescan(4, a7), ZG_FORMAT_TEXT,
	       "prescan: a name that is no format (an option's argument) is text");
	return done_testing();
}
