/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The PostgreSQL store of the signer lease (signer/lease.h): rows
 * "signer:ZONE" of table zonegate_lease, over the queue's connection code
 * (ingest/pgqueue.h, which also checks or creates the tables).
 */
#ifndef ZONEGATE_PGLEASE_H
#define ZONEGATE_PGLEASE_H

#include "signer/lease.h"

/*!
 * Creates a PostgreSQL lease store (connects lazily).
 *
 * \param conninfo  libpq URI or key=value string.
 * \param out       The store, to release with zg_lease_free().
 *
 * \return 0 or -ENOMEM.
 */
int zg_pglease_new(const char *conninfo, zg_lease_store_t **out);

#endif /* ZONEGATE_PGLEASE_H */
