-- User profiles: one row per auth user, created by the server the first time it sees the user.
-- A user reads and updates only their own row and can never change their role; roles are
-- granted by the service role (or an operator), never by the user.

create table public.user_profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  display_name text check (display_name is null or char_length(display_name) between 1 and 200),
  role text not null default 'user' check (role in ('user', 'admin')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.user_profiles enable row level security;

-- Supabase's default privileges hand every new table to anon and authenticated; take them back
-- and grant only what the policies below are meant to allow. Column-level UPDATE means a
-- user's `update … set role = 'admin'` fails with permission denied before any policy runs.
revoke all on public.user_profiles from anon, authenticated;
grant select on public.user_profiles to authenticated;
grant update (display_name) on public.user_profiles to authenticated;
grant all on public.user_profiles to service_role;

create policy user_profiles_select_own on public.user_profiles
  for select to authenticated
  using (id = (select auth.uid()));

create policy user_profiles_update_own on public.user_profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- Shared by every table with an updated_at column.
create or replace function public.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create trigger user_profiles_touch_updated_at
  before update on public.user_profiles
  for each row execute function public.touch_updated_at();

-- Second lock on the role column, should a later migration ever widen the column grants:
-- only a trusted role (service_role, the owner) may change it.
create or replace function public.user_profiles_guard_role() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.role is distinct from old.role and current_user in ('anon', 'authenticated') then
    raise exception 'role can only be changed by the service' using errcode = '42501';
  end if;
  return new;
end
$$;

create trigger user_profiles_guard_role
  before update on public.user_profiles
  for each row execute function public.user_profiles_guard_role();

revoke execute on function public.touch_updated_at() from public, anon, authenticated;
revoke execute on function public.user_profiles_guard_role() from public, anon, authenticated;
