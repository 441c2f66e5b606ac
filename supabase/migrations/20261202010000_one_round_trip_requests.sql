-- What lets the local server send a request's whole transaction in one round trip
-- (begin, the role and claims, the query, commit, pipelined; dstudio_backend/db.py):
--
--   private.require_live_session(sub, session_id) raises PT401 (HTTP 401) unless the user
--   exists and is not deleted and, when the token names a session, that session is live.
--   It runs as the server's own database user, before the role is set, in the same statement
--   that sets it; the error aborts the transaction, so nothing queued behind it runs.
--
--   storage.queue_deleted_object() (the local storage schema only) also marks the transaction
--   (`dstudio.objects_deleted`), so the server knows a request left bytes to remove without
--   asking the database again after every request.

create or replace function private.require_live_session(sub uuid, session_id uuid) returns boolean
  language plpgsql stable as $$
begin
  if not exists (select 1 from auth.users u where u.id = sub and u.deleted_at is null
                  and (session_id is null or exists (
                    select 1 from auth.sessions s where s.id = session_id and s.user_id = u.id
                       and (s.not_after is null or s.not_after > now())))) then
    raise exception using errcode = 'PT401', message = 'JWT session has ended';
  end if;
  return true;
end
$$;
-- the server's own user calls it; no API role needs it
revoke all on function private.require_live_session(uuid, uuid) from public, anon, authenticated, service_role;

do $$
begin
  if to_regclass('storage.deleted_objects') is null then
    return;  -- a hosted project's storage service keeps its own bytes
  end if;
  execute $f$
    create or replace function storage.queue_deleted_object() returns trigger language plpgsql security definer as $b$
    begin
      insert into storage.deleted_objects (id, bucket_id, name) values (old.id, old.bucket_id, old.name)
      on conflict (id) do nothing;
      perform set_config('dstudio.objects_deleted', 'yes', true);
      return old;
    end
    $b$ $f$;
end
$$;
