/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The output formats of the command-line tools (`--format text|json|nagios`,
 * doc/contracts.md), read in one place.
 */
#ifndef ZONEGATE_FORMAT_H
#define ZONEGATE_FORMAT_H

/*! An output format. */
typedef enum {
	ZG_FORMAT_TEXT = 0,
	ZG_FORMAT_JSON,
	ZG_FORMAT_NAGIOS,
} zg_format_t;

/*! The names, for usage and error messages. */
#define ZG_FORMAT_NAMES "text, json or nagios"

/*!
 * Reads a format name ("text", "json", "nagios").
 * \return 0, or -1 (unknown name or NULL; *out unchanged).
 */
int zg_format_parse(const char *name, zg_format_t *out);

/*!
 * The format asked for on a command line before options are parsed, so that
 * a usage error is already reported in it: the last `--format NAME` or
 * `--format=NAME` of argv; text when there is none or the name is unknown.
 */
zg_format_t zg_format_prescan(int argc, char *const *argv);

#endif /* ZONEGATE_FORMAT_H */
