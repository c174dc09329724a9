#!/bin/sh
# Runs once, when the data volume is new: from the next start on PostgreSQL archives its WAL with
# pgBackRest, into the repository this creates (deploy/README.md, section 7).
set -eu
echo "include '/etc/postgresql/toolcrib-pitr.conf'" >> "$PGDATA/postgresql.conf"
pgbackrest --stanza=toolcrib stanza-create
