-- SPDX-License-Identifier: GPL-3.0-or-later
-- zonegate's PostgreSQL ingest queue: tables, index, NOTIFY trigger, and the
-- roles of a least-privilege producer and consumer (doc/postgresql.md).
--
-- Run it as the owner of the database (or a superuser), as often as you
-- like: every statement is idempotent, and a second run changes nothing.
--
--     psql -v ON_ERROR_STOP=1 -d registry -f zonegate-queue.sql
--
-- The objects are created in the first schema of the search path (public by
-- default); the consumer and the producer find them through their own
-- search path, so keep it the same for every role.
--
-- The consumer (mod-ingest, zg-ingest run) creates the same objects itself
-- when they are missing and it may (it logs "created the missing queue
-- tables"); when they all exist it creates and changes nothing, so the
-- roles below need no right to change the schema.

BEGIN;

-- The lock the consumer takes for the same statements: two first runs at
-- once do not collide.
SELECT pg_advisory_xact_lock(7383651);

-- One row per message. zone: the zone's name (with or without the final
-- dot, any case). message: the JSON message of doc/message-schema.md, as
-- json (the text as written; jsonb would keep one of duplicate keys
-- silently). The consumer takes the pending rows of its zone in id order
-- and sets state, applied_at, applied_serial (applied) or error (refused).
-- The applied rows are the record of the message ids applied to each zone:
-- keep them as long as a producer may send an id again.
CREATE TABLE IF NOT EXISTS zonegate_queue (
  id bigserial PRIMARY KEY,
  zone text NOT NULL,
  message json NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'applied', 'refused')),
  applied_at timestamptz,
  applied_serial bigint,
  error text);

CREATE INDEX IF NOT EXISTS zonegate_queue_pending
  ON zonegate_queue (zone, id) WHERE state = 'pending';

-- Exactly once per message id: before applying a row, the consumer looks
-- for an applied row of the zone with the same message id (the JSON "id")
-- and refuses the row if there is one. This index keeps that look-up short
-- (without it the consumer still works, reading the zone's applied rows, and
-- logs a notice). The expression is the consumer's; keep it as it is.
CREATE INDEX IF NOT EXISTS zonegate_queue_applied_id
  ON zonegate_queue (lower(rtrim(zone, '.')), (message->>'id'))
  WHERE state = 'applied';

-- One row per zone: the consumer holding the zone (holder: its --consumer
-- name, host:pid by default), the fencing token (raised each time another
-- consumer takes the zone over) and when the lease expires unless renewed.
-- zone is the zone's name in lower case without the final dot.
CREATE TABLE IF NOT EXISTS zonegate_lease (
  zone text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL);

-- Wakes the consumers (LISTEN zonegate_queue) on every new row.
-- (The body is written as the consumer writes it, in one line.)
CREATE OR REPLACE FUNCTION zonegate_queue_notify() RETURNS trigger
  LANGUAGE plpgsql
  AS $$ BEGIN  PERFORM pg_notify('zonegate_queue', NEW.zone); RETURN NULL; END $$;

CREATE OR REPLACE TRIGGER zonegate_queue_notify AFTER INSERT ON zonegate_queue
  FOR EACH ROW EXECUTE FUNCTION zonegate_queue_notify();

-- A queue made as jsonb by an early version: converted to json, as the
-- consumer asks (it does not consume a jsonb column).
DO $$ BEGIN
  IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
      WHERE attrelid = 'zonegate_queue'::regclass AND attname = 'message') <> 'json' THEN
    ALTER TABLE zonegate_queue ALTER COLUMN message TYPE json USING message::json;
  END IF;
END $$;

-- The roles (cluster-wide, NOLOGIN): give them to login roles, e.g.
--     CREATE ROLE signer LOGIN IN ROLE zonegate_consumer;
--     CREATE ROLE registry LOGIN IN ROLE zonegate_producer;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zonegate_producer') THEN
    CREATE ROLE zonegate_producer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zonegate_consumer') THEN
    CREATE ROLE zonegate_consumer NOLOGIN;
  END IF;
END $$;

-- Both use the schema the objects are in.
DO $$ BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO zonegate_producer, zonegate_consumer',
                 current_schema());
END $$;

-- The producer (the registry, mod-dsync in parent mode) inserts messages
-- and reads their outcome; it cannot change or delete a row.
GRANT SELECT, INSERT ON zonegate_queue TO zonegate_producer;
GRANT USAGE ON SEQUENCE zonegate_queue_id_seq TO zonegate_producer;

-- The consumer (mod-ingest, zg-ingest run) reads and locks pending rows,
-- records their outcome, and takes, renews and hands over the lease.
GRANT SELECT, UPDATE ON zonegate_queue TO zonegate_consumer;
GRANT SELECT, INSERT, UPDATE ON zonegate_lease TO zonegate_consumer;

COMMIT;
