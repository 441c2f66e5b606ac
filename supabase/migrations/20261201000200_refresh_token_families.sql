-- Refresh-token families, as GoTrue keeps them: the refresh tokens of one session are one
-- family (auth.refresh_tokens.session_id, each token's parent the one it was swapped for).
-- Presenting a spent token again outside the reuse rules revokes the whole family and ends
-- the session, so the token issued from the spent one stops working too, and so do the
-- session's access tokens (the local server checks the session on every request).
-- `not_after` is GoTrue's own column for the end of a session.
--
-- On a hosted project GoTrue owns the auth schema (its sessions already have not_after) and
-- nothing here runs.

do $$
begin
  if to_regclass('auth.sessions') is null or to_regclass('auth.schema_migrations') is not null then
    return;  -- not the local server's auth schema
  end if;
  if not exists (select 1 from information_schema.columns
                  where table_schema = 'auth' and table_name = 'sessions' and column_name = 'not_after') then
    alter table auth.sessions add column not_after timestamptz;
  end if;
end
$$;
