#!/bin/sh
# Runs once, when the data volume is new, as the superuser (docker-entrypoint-initdb.d): the
# application gets a role of its own that is NOT a superuser. It owns the toolcrib database,
# so migrations and restores (DROP/CREATE SCHEMA public) work; CREATEDB lets `verify_backup`
# restore into a scratch database. The superuser's password stays out of the app's environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v app_password="$TOOLCRIB_DB_PASSWORD" <<'SQL'
CREATE ROLE toolcrib LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION CREATEDB PASSWORD :'app_password';
CREATE DATABASE toolcrib OWNER toolcrib;
SQL
