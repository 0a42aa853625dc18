-- Sessions ended by POST /api/v1/auth/logout in local auth mode. (In Supabase mode, Supabase
-- Auth revokes the session itself and this table stays empty.) A token whose session — or, for
-- a token without a session id, whose own hash — is listed here is refused even though its
-- signature and expiry are still valid. Rows can go once the token would have expired anyway.

create table public.auth_revoked_sessions (
  revocation_key text primary key check (char_length(revocation_key) between 1 and 200),
  user_id uuid not null,
  revoked_at timestamptz not null default now(),
  expires_at timestamptz not null
);

create index auth_revoked_sessions_expires_at on public.auth_revoked_sessions (expires_at);

-- Server-only: no policy grants anon or authenticated anything, and they hold no privileges.
alter table public.auth_revoked_sessions enable row level security;
revoke all on public.auth_revoked_sessions from anon, authenticated;
grant all on public.auth_revoked_sessions to service_role;
