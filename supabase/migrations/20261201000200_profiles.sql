-- Profiles (issue 14): what a user says about themselves, their settings and whether they appear
-- on the global leaderboard. The row is still created by the server on first sight of a user
-- (AuthService), read and edited by its owner only, and its role stays out of the user's reach.
--
-- display_name keeps its 1..200 check: rows written before this migration may be up to 200
-- characters, and narrowing the check would fail on such a row. The API enforces 1..80 for new
-- writes (docs/decisions.md, "Profiles").

alter table public.user_profiles
  add column bio text check (bio is null or char_length(bio) <= 2000),
  -- https only: the SPA renders it as an <img src>, and a javascript: or http: URL must never get
  -- that far, whoever wrote the row (the API checks the same, this is the second lock).
  add column avatar_url text check (
    avatar_url is null or (avatar_url ~ '^https://[^\s/?#]+' and char_length(avatar_url) <= 2048)
  ),
  add column position text check (position is null or char_length(position) <= 120),
  add column goal text check (goal is null or char_length(goal) <= 500),
  -- The API caps the JSON text at 8 KiB (JSON.stringify); jsonb's own text adds a space after
  -- every ':' and ',', so the backstop here is twice that: a value the API let through always fits.
  add column preferences jsonb not null default '{}'::jsonb check (
    jsonb_typeof(preferences) = 'object' and octet_length(preferences::text) <= 16384
  ),
  add column leaderboard_opt_in boolean not null default false,
  -- Written by the server, never by the user (not in the grant below).
  add column last_seen_at timestamptz;

-- Exactly the user-editable columns. role, email, id, created_at, updated_at and last_seen_at are
-- not among them, so `update … set role = 'admin'` is refused before any policy runs; the guard
-- trigger (user_profiles_guard_role) stays as the second lock on role.
revoke update on public.user_profiles from authenticated;
grant update (display_name, bio, avatar_url, position, goal, preferences, leaderboard_opt_in)
  on public.user_profiles to authenticated;

-- updated_at means "the profile changed": the server moving last_seen_at is not an edit.
create or replace function public.user_profiles_touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (to_jsonb(new) - 'last_seen_at' - 'updated_at') is distinct from (to_jsonb(old) - 'last_seen_at' - 'updated_at') then
    new.updated_at := now();
  end if;
  return new;
end
$$;

drop trigger user_profiles_touch_updated_at on public.user_profiles;
create trigger user_profiles_touch_updated_at
  before update on public.user_profiles
  for each row execute function public.user_profiles_touch_updated_at();

revoke execute on function public.user_profiles_touch_updated_at() from public, anon, authenticated;
