-- Local accounts (/auth/v1, local auth mode only): password credentials, sessions and refresh
-- tokens next to our own auth.users. Not a migration: migrations also run on Supabase, where
-- Supabase Auth owns the auth schema and these tables must never exist. The server runs this at
-- start-up only when auth is local and auth.users is the bootstrap's (ownsAuthUsers); every
-- statement is idempotent, so databases bootstrapped before this file existed get the tables too.
-- Everything goes with its auth.users row (ON DELETE CASCADE): deleting the user deletes the
-- account.

-- One password per user. Kept apart from auth.users so that nothing reading users (a join, a
-- future export) ever carries a password hash along by accident.
create table if not exists auth.local_credentials (
  user_id uuid primary key references auth.users (id) on delete cascade,
  -- argon2id, PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
  password_hash text not null check (password_hash like '$argon2id$%'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- A sign-in: every access token issued for it carries its id as `session_id`, so revoking the
-- session (logout, refresh-token reuse) refuses all of them through auth_revoked_sessions.
create table if not exists auth.local_sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  refreshed_at timestamptz,
  revoked_at timestamptz,
  -- 'logout' or 'refresh_token_reuse'.
  revoked_reason text
);
create index if not exists local_sessions_user_id on auth.local_sessions (user_id);

-- Refresh tokens, only as SHA-256 hashes. Each exchange marks the presented token used and
-- adds its child; presenting a used one again is reuse, and ends the whole session.
create table if not exists auth.local_refresh_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  session_id uuid not null references auth.local_sessions (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  parent_hash text,
  created_at timestamptz not null default now(),
  used_at timestamptz
);
create index if not exists local_refresh_tokens_session_id on auth.local_refresh_tokens (session_id);
create index if not exists local_refresh_tokens_user_id on auth.local_refresh_tokens (user_id);

-- Only the server's own (owner) role reaches these, as it does auth.users: no API role, not even
-- service_role, gets anything; row-level security is on with no policy as the second lock.
alter table auth.local_credentials enable row level security;
alter table auth.local_sessions enable row level security;
alter table auth.local_refresh_tokens enable row level security;
revoke all on auth.local_credentials, auth.local_sessions, auth.local_refresh_tokens
  from public, anon, authenticated, service_role;
