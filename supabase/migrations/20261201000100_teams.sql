-- Teams and group rounds. A team has members with roles (owner/admin/member); it runs rounds of
-- one pillar's assessment across its members and shows the group's aggregate — never anyone's
-- individual answers or scores.
--
-- How the locks are laid out:
-- * Reads run as the user under RLS. Membership in a policy is asked of public.team_role(), a
--   security-definer helper, so no policy ever selects from its own table (the old system's
--   member policies did, and recursed forever).
-- * Writes with a rule that spans rows — creating a team with its owner, joining by code under
--   the member cap, accepting an invitation, transferring ownership, closing a round (which
--   freezes its aggregate) — are security-definer functions that take the caller from
--   auth.uid() and trust none of their arguments. Plain writes (rename, role changes, leaving,
--   inviting, opening a round, participating) go through policies.
-- * A round's assessments stay owner-only: teammates never see each other's rows. Counts and
--   aggregates come only from the functions below, which return nothing per person.
--
-- Refusals are SQLSTATEs the server maps (PostgREST maps PTxyz to HTTP xyz as well):
--   PT404 no such thing, or not yours to see (one outcome, so existence never leaks)
--   PT403 a member without the role the action needs
--   PT409 a state conflict (team full, invitation expired, round closed, owner leaving)

-- Server-owned settings the functions read (TEAM_MAX_MEMBERS, TEAM_MIN_RESULTS): the server
-- writes the one row at start-up as the service role. Kept in a table, not in arguments, so
-- nobody calling a function through Supabase's REST API can raise the cap or lower the minimum.
create table public.team_settings (
  id boolean primary key default true check (id),
  max_members integer not null default 200 check (max_members between 1 and 100000),
  -- Never below 2: an aggregate of one is that person's score.
  min_results integer not null default 3 check (min_results between 2 and 1000),
  updated_at timestamptz not null default now()
);
insert into public.team_settings (id) values (true);
alter table public.team_settings enable row level security;
revoke all on public.team_settings from anon, authenticated;
grant all on public.team_settings to service_role;

-- A pillar belongs to exactly one mode (assessment_sessions spells the same rule out inline).
create or replace function public.pillar_in_mode(p_pillar_id text, p_mode text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select (p_mode = 'egalitarian' and p_pillar_id in ('divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp'))
      or (p_mode = 'hierarchical' and p_pillar_id in ('normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'))
$$;

-- The signed-in caller, for the functions below; nobody else may be acted for.
create or replace function public._team_caller() returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'not authenticated' using errcode = '42501';
  end if;
  return auth.uid();
end
$$;

create table public.teams (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 100),
  description text check (description is null or char_length(description) <= 2000),
  owner_id uuid not null references auth.users (id) on delete cascade,
  -- The invite code is a credential: only its SHA-256 is stored; the code is shown once.
  invite_code_hash text unique check (invite_code_hash is null or invite_code_hash ~ '^[0-9a-f]{64}$'),
  invite_code_expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index teams_owner on public.teams (owner_id);

create trigger teams_touch_updated_at
  before update on public.teams
  for each row execute function public.touch_updated_at();

create table public.team_members (
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  joined_at timestamptz not null default now(),
  primary key (team_id, user_id)
);

-- Exactly one owner per team at most (transfer swaps roles in one statement's transaction).
create unique index team_members_one_owner on public.team_members (team_id) where role = 'owner';
-- "My teams", newest membership first, and the member list in join order.
create index team_members_by_user on public.team_members (user_id, joined_at desc, team_id desc);
create index team_members_in_order on public.team_members (team_id, joined_at, user_id);

create table public.team_invitations (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  -- Stored lower-case, so matching the invitee's token e-mail is exact.
  email text not null check (char_length(email) between 3 and 320 and email = lower(email) and email like '%_@_%'),
  role text not null default 'member' check (role in ('admin', 'member')),
  status text not null default 'pending' check (status in ('pending', 'accepted', 'declined', 'expired')),
  invited_by uuid references auth.users (id) on delete set null default auth.uid(),
  expires_at timestamptz not null default now() + interval '7 days',
  created_at timestamptz not null default now(),
  responded_at timestamptz
);

-- One pending invitation per address and team.
create unique index team_invitations_one_pending on public.team_invitations (team_id, email) where status = 'pending';
create index team_invitations_by_team on public.team_invitations (team_id, created_at desc, id desc);
create index team_invitations_by_email on public.team_invitations (email) where status = 'pending';
create index team_invitations_expiry on public.team_invitations (expires_at) where status = 'pending';

create table public.team_rounds (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  pillar_id text not null,
  mode text not null check (mode in ('egalitarian', 'hierarchical')),
  status text not null default 'open' check (status in ('open', 'closed')),
  created_by uuid references auth.users (id) on delete set null default auth.uid(),
  closes_at timestamptz,
  created_at timestamptz not null default now(),
  closed_at timestamptz,
  -- Frozen when the round closes: what counted, and the aggregate — stored only when at least
  -- min_results members completed, so a hidden aggregate never exists to be read.
  final_members integer,
  final_started integer,
  final_completed integer,
  results jsonb,
  constraint team_rounds_pillar_in_mode check (public.pillar_in_mode(pillar_id, mode)),
  constraint team_rounds_closed check (
    (status = 'closed') = (closed_at is not null and final_completed is not null)
  ),
  constraint team_rounds_results_when_closed check (results is null or status = 'closed')
);

create index team_rounds_newest on public.team_rounds (team_id, created_at desc, id desc);
create index team_rounds_due on public.team_rounds (closes_at) where status = 'open';

-- A member's own assessment for a round: one per member and round, and an assessment belongs to
-- one round at most. Deleting the assessment deletes the link; the round's frozen aggregate stays.
create table public.team_round_participants (
  round_id uuid not null references public.team_rounds (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  assessment_id uuid not null unique references public.assessment_sessions (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (round_id, user_id)
);

alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.team_invitations enable row level security;
alter table public.team_rounds enable row level security;
alter table public.team_round_participants enable row level security;

-- The caller's role in a team, or null when they are not a member. Security definer so that
-- policies on team_members (and the tables that refer to it) can ask without selecting from
-- their own table under RLS. It answers only about auth.uid(): no argument can ask about anyone else.
create or replace function public.team_role(p_team_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.role from public.team_members m where m.team_id = p_team_id and m.user_id = (select auth.uid())
$$;

-- For the functions below: the caller's role in the team when it is one of p_roles; otherwise
-- PT404 for a non-member (exactly like a missing team) and PT403 for a member without the role.
create or replace function public._team_require(p_team_id uuid, p_roles text[]) returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_role text;
begin
  perform public._team_caller();
  v_role := public.team_role(p_team_id);
  if v_role is null then
    raise exception 'not found' using errcode = 'PT404';
  elsif not (v_role = any (p_roles)) then
    raise exception 'your role in this team does not allow this' using errcode = 'PT403';
  end if;
  return v_role;
end
$$;

-- Privileges: reads through policies; writes only where a policy below states the rule.
revoke all on public.teams, public.team_members, public.team_invitations, public.team_rounds,
  public.team_round_participants from anon, authenticated;
grant all on public.teams, public.team_members, public.team_invitations, public.team_rounds,
  public.team_round_participants to service_role;
-- The code's hash stays out of reach: column-level SELECT leaves it out.
grant select (id, name, description, owner_id, invite_code_expires_at, created_at, updated_at) on public.teams to authenticated;
grant update (name, description) on public.teams to authenticated;
grant delete on public.teams to authenticated;
grant select on public.team_members to authenticated;
grant update (role) on public.team_members to authenticated;
grant delete on public.team_members to authenticated;
grant select, delete on public.team_invitations to authenticated;
grant insert (team_id, email, role) on public.team_invitations to authenticated;
grant update (status, responded_at) on public.team_invitations to authenticated;
grant select on public.team_rounds to authenticated;
grant insert (team_id, name, pillar_id, mode, closes_at) on public.team_rounds to authenticated;
grant select on public.team_round_participants to authenticated;
grant insert (round_id, user_id, assessment_id) on public.team_round_participants to authenticated;

create policy teams_select_member on public.teams
  for select to authenticated
  using (public.team_role(id) is not null);
create policy teams_update_admin on public.teams
  for update to authenticated
  using (public.team_role(id) in ('owner', 'admin'))
  with check (public.team_role(id) in ('owner', 'admin'));
create policy teams_delete_owner on public.teams
  for delete to authenticated
  using (public.team_role(id) = 'owner');

create policy team_members_select_member on public.team_members
  for select to authenticated
  using (public.team_role(team_id) is not null);
-- Only the owner changes roles, never their own, and nobody becomes owner this way (transfer).
create policy team_members_update_owner on public.team_members
  for update to authenticated
  using (public.team_role(team_id) = 'owner' and role <> 'owner')
  with check (role in ('admin', 'member'));
-- Leave (oneself), or remove: the owner removes anyone, an admin removes plain members. The
-- owner is never removed this way.
create policy team_members_delete on public.team_members
  for delete to authenticated
  using (
    role <> 'owner'
    and (
      user_id = (select auth.uid())
      or public.team_role(team_id) = 'owner'
      or (public.team_role(team_id) = 'admin' and role = 'member')
    )
  );

create policy team_invitations_select on public.team_invitations
  for select to authenticated
  using (
    public.team_role(team_id) in ('owner', 'admin')
    -- The invitee sees the invitations addressed to their token's e-mail, whatever their state.
    or email = lower((select auth.jwt()) ->> 'email')
  );
create policy team_invitations_insert_admin on public.team_invitations
  for insert to authenticated
  with check (
    public.team_role(team_id) in ('owner', 'admin')
    and invited_by = (select auth.uid())
    and status = 'pending'
  );
create policy team_invitations_delete_admin on public.team_invitations
  for delete to authenticated
  using (public.team_role(team_id) in ('owner', 'admin'));
-- The invitee declines their own pending invitation; accepting goes through the function below.
create policy team_invitations_decline on public.team_invitations
  for update to authenticated
  using (status = 'pending' and expires_at > now() and email = lower((select auth.jwt()) ->> 'email'))
  with check (status = 'declined' and email = lower((select auth.jwt()) ->> 'email'));

create policy team_rounds_select_member on public.team_rounds
  for select to authenticated
  using (public.team_role(team_id) is not null);
create policy team_rounds_insert_admin on public.team_rounds
  for insert to authenticated
  with check (
    public.team_role(team_id) in ('owner', 'admin')
    and created_by = (select auth.uid())
    and status = 'open'
    and (closes_at is null or closes_at > now())
  );

-- One's own link only. Joining a round needs: the round open, the caller a member of its team,
-- and the assessment the caller's own, in progress, of the round's pillar and mode.
create policy team_round_participants_select_own on public.team_round_participants
  for select to authenticated
  using (user_id = (select auth.uid()));
create policy team_round_participants_insert_own on public.team_round_participants
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and exists (
      select 1 from public.team_rounds r
       where r.id = round_id and r.status = 'open' and (r.closes_at is null or r.closes_at > now())
         and public.team_role(r.team_id) is not null
         and exists (
           select 1 from public.assessment_sessions s
            where s.id = assessment_id and s.user_id = (select auth.uid()) and s.status = 'in_progress'
              and s.pillar_id = r.pillar_id and s.mode = r.mode
         )
    )
  );

-- ---------------------------------------------------------------------------------------------
-- Functions. Each security-definer one takes the caller from auth.uid(), pins search_path, and
-- is executable by `authenticated` only; the internal ones by the owner and service_role only.

create or replace function public.create_team(p_name text, p_description text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := public._team_caller();
  v_team uuid;
begin
  insert into public.teams (name, description, owner_id) values (p_name, p_description, v_user)
  returning id into v_team;
  insert into public.team_members (team_id, user_id, role) values (v_team, v_user, 'owner');
  return v_team;
end
$$;

-- Adds auth.uid() to a team under the member cap. The team row is locked first, so concurrent
-- joins into one team take turns: the count each one sees includes every join before it.
create or replace function public._team_admit(p_team_id uuid, p_user uuid, p_role text) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_max integer := coalesce((select s.max_members from public.team_settings s where s.id), 200);
begin
  perform 1 from public.teams t where t.id = p_team_id for update;
  -- Deleted while this waited for its lock: as if the code or invitation never existed.
  if not found then
    raise exception 'team not found' using errcode = 'PT404';
  end if;
  if exists (select 1 from public.team_members m where m.team_id = p_team_id and m.user_id = p_user) then
    return;
  end if;
  if (select count(*) from public.team_members m where m.team_id = p_team_id) >= v_max then
    raise exception 'the team is full' using errcode = 'PT409';
  end if;
  insert into public.team_members (team_id, user_id, role) values (p_team_id, p_user, p_role);
end
$$;

create or replace function public.join_team(p_code text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := public._team_caller();
  v_team uuid;
begin
  select t.id into v_team from public.teams t
   where t.invite_code_hash = encode(sha256(convert_to(upper(coalesce(p_code, '')), 'UTF8')), 'hex')
     and t.invite_code_expires_at > now();
  if v_team is null then
    raise exception 'unknown or expired invite code' using errcode = 'PT404';
  end if;
  perform public._team_admit(v_team, v_user, 'member');
  return v_team;
end
$$;

-- A new invite code for the team (the old one stops working), made here from the database's
-- random generator: 8 characters from 32 unambiguous ones (no 0/O, 1/I), 40 bits. Returns the
-- code once; only its hash is kept.
create or replace function public.rotate_team_invite_code(p_team_id uuid)
returns table (code text, expires_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_alphabet constant text := '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  v_bytes bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
  v_code text := '';
  v_expires timestamptz := now() + interval '7 days';
begin
  perform public._team_require(p_team_id, array['owner', 'admin']);
  -- Bytes 0..5 of the first UUID and 0..1 of the second (16, 17) avoid the version and variant bits; 256 is a multiple of 32,
  -- so every character is equally likely.
  for i in 0..7 loop
    v_code := v_code || substr(v_alphabet, get_byte(v_bytes, (array[0, 1, 2, 3, 4, 5, 16, 17])[i + 1]) % 32 + 1, 1);
  end loop;
  update public.teams t
     set invite_code_hash = encode(sha256(convert_to(v_code, 'UTF8')), 'hex'), invite_code_expires_at = v_expires
   where t.id = p_team_id;
  return query select v_code, v_expires;
end
$$;

create or replace function public.transfer_team_ownership(p_team_id uuid, p_user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
begin
  -- Lock first, then check: of concurrent transfers each one sees the owner the previous left.
  perform 1 from public.teams t where t.id = p_team_id for update;
  perform public._team_require(p_team_id, array['owner']);
  if p_user_id = v_user then
    return;
  end if;
  -- Locked too: a leave that commits while this waits must not leave the team to nobody.
  perform 1 from public.team_members m where m.team_id = p_team_id and m.user_id = p_user_id for update;
  if not found then
    raise exception 'member not found' using errcode = 'PT404';
  end if;
  -- The old owner first, so the one-owner index never sees two.
  update public.team_members m set role = 'admin' where m.team_id = p_team_id and m.user_id = v_user;
  update public.team_members m set role = 'owner' where m.team_id = p_team_id and m.user_id = p_user_id;
  update public.teams t set owner_id = p_user_id where t.id = p_team_id;
end
$$;

-- Accepts an invitation addressed to the caller's token e-mail; the member cap applies.
create or replace function public.accept_team_invitation(p_invitation_id uuid) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := public._team_caller();
  v_email text := lower((select auth.jwt()) ->> 'email');
  v_invitation public.team_invitations;
begin
  select * into v_invitation from public.team_invitations i
   where i.id = p_invitation_id and v_email is not null and i.email = v_email
     and i.status in ('pending', 'expired')
   for update;
  if not found then
    raise exception 'invitation not found' using errcode = 'PT404';
  end if;
  if v_invitation.status = 'expired' or v_invitation.expires_at <= now() then
    raise exception 'the invitation has expired' using errcode = 'PT409';
  end if;
  perform public._team_admit(v_invitation.team_id, v_user, v_invitation.role);
  update public.team_invitations i set status = 'accepted', responded_at = now() where i.id = p_invitation_id;
  return v_invitation.team_id;
end
$$;

-- The aggregate of a round's completed assessments up to p_cutoff, as one JSON object:
-- {n, pillar:{mean, sd, min, max}, forces:{key:{n, mean, sd, consensus}}} (sd and consensus null
-- below 4 completions, min and max below 5). Population standard
-- deviation (the members are the whole group, not a sample), so sd ≤ 50 on a 0..100 scale and
-- consensus = 1 − sd/50 stays in 0..1 (clamped anyway). A force enters only when at least
-- p_min members answered it: a force one person answered would be that person's score.
create or replace function public._team_round_aggregate(p_round_id uuid, p_cutoff timestamptz, p_min integer)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with done as (
    select s.results
      from public.team_round_participants p
      join public.assessment_sessions s on s.id = p.assessment_id
     where p.round_id = p_round_id and s.status = 'completed' and s.completed_at <= p_cutoff
  ),
  pillar as (
    select count(*)::int as n,
           round(avg((results ->> 'pillar_score')::numeric), 2) as mean,
           round(coalesce(stddev_pop((results ->> 'pillar_score')::numeric), 0), 2) as sd,
           min((results ->> 'pillar_score')::numeric) as min,
           max((results ->> 'pillar_score')::numeric) as max
      from done
  ),
  forces as (
    select f.key, count(*)::int as n, avg(f.value::numeric) as mean, coalesce(stddev_pop(f.value::numeric), 0) as sd
      from done, jsonb_each_text(done.results -> 'force_scores') f
     group by f.key
    having count(*) >= p_min
  )
  select jsonb_build_object(
    'n', pillar.n,
    -- What a member who knows their own score could solve for is left out:
    -- * the spread (sd, consensus) below 4: with 3, own score + mean + sd are two equations in
    --   the other two scores, which gives both;
    -- * the lowest and highest below 5: each is one member's own score, and with 3 or 4 they
    --   narrow the rest down to one or two.
    'pillar', jsonb_build_object(
      'mean', pillar.mean,
      'sd', case when pillar.n >= 4 then pillar.sd end,
      'min', case when pillar.n >= 5 then pillar.min end,
      'max', case when pillar.n >= 5 then pillar.max end
    ),
    'forces', coalesce((
      select jsonb_object_agg(forces.key, jsonb_build_object(
        'n', forces.n,
        'mean', round(forces.mean, 2),
        'sd', case when forces.n >= 4 then round(forces.sd, 2) end,
        'consensus', case when forces.n >= 4 then round(greatest(0, least(1, 1 - forces.sd / 50)), 4) end
      )) from forces
    ), '{}'::jsonb)
  )
  from pillar
$$;

-- Closes an open round as of p_closed_at, freezing its counts and — when at least min_results
-- members completed by then — its aggregate. Completions after p_closed_at never count.
create or replace function public._team_round_freeze(p_round_id uuid, p_closed_at timestamptz) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_min integer := coalesce((select s.min_results from public.team_settings s where s.id), 3);
  v_team uuid;
  v_completed integer;
begin
  select r.team_id into v_team from public.team_rounds r where r.id = p_round_id and r.status = 'open' for update;
  if v_team is null then
    return;
  end if;
  select count(*) into v_completed
    from public.team_round_participants p
    join public.assessment_sessions s on s.id = p.assessment_id
   where p.round_id = p_round_id and s.status = 'completed' and s.completed_at <= p_closed_at;
  update public.team_rounds r
     set status = 'closed',
         closed_at = p_closed_at,
         final_members = (select count(*) from public.team_members m where m.team_id = v_team),
         final_started = (select count(*) from public.team_round_participants p where p.round_id = p_round_id),
         final_completed = v_completed,
         results = case when v_completed >= v_min then public._team_round_aggregate(p_round_id, p_closed_at, v_min) end
   where r.id = p_round_id;
end
$$;

-- Closes the rounds that are due: past closes_at (as of closes_at), or completed by every
-- current member (as of now). p_team_id null means every team (the hourly job).
create or replace function public.settle_team_rounds(p_team_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_round record;
  v_closed integer := 0;
begin
  for v_round in
    select r.id, r.closes_at from public.team_rounds r
     where r.status = 'open' and (p_team_id is null or r.team_id = p_team_id)
       and (
         r.closes_at <= now()
         or (select count(*) from public.team_members m where m.team_id = r.team_id) <= (
           select count(*) from public.team_round_participants p
             join public.assessment_sessions s on s.id = p.assessment_id and s.status = 'completed'
             join public.team_members m on m.team_id = r.team_id and m.user_id = p.user_id
            where p.round_id = r.id
         )
       )
     -- In one order, skipping rounds another transaction holds (it is closing them): concurrent
     -- closes, reads and the hourly job never wait on each other in a cycle.
     order by r.id
     for update of r skip locked
  loop
    perform public._team_round_freeze(
      v_round.id,
      case when v_round.closes_at <= now() then v_round.closes_at else now() end
    );
    v_closed := v_closed + 1;
  end loop;
  return v_closed;
end
$$;

-- An owner or admin closes a round now.
create or replace function public.close_team_round(p_round_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_team uuid := (select r.team_id from public.team_rounds r where r.id = p_round_id);
begin
  perform public._team_require(v_team, array['owner', 'admin']);
  -- Locked, so of two concurrent closes the second sees the first's and answers 409.
  if (select r.status from public.team_rounds r where r.id = p_round_id for update) = 'closed' then
    raise exception 'the round is already closed' using errcode = 'PT409';
  end if;
  -- Due rounds first (one past closes_at closes as of then, not now); then this one, unless
  -- settling just closed it — either way it is closed when this returns.
  perform public.settle_team_rounds(v_team);
  perform public._team_round_freeze(p_round_id, now());
end
$$;

-- Participation per round for the caller's teams: live counts while open, frozen once closed.
-- Counts only; rounds of teams the caller is not in are left out.
create or replace function public.team_round_progress(p_round_ids uuid[])
returns table (round_id uuid, members integer, started integer, completed integer)
language sql
stable
security definer
set search_path = ''
as $$
  select r.id,
         coalesce(r.final_members, (select count(*)::int from public.team_members m where m.team_id = r.team_id)),
         coalesce(r.final_started, (select count(*)::int from public.team_round_participants p where p.round_id = r.id)),
         coalesce(r.final_completed, (
           select count(*)::int from public.team_round_participants p
             join public.assessment_sessions s on s.id = p.assessment_id and s.status = 'completed'
            where p.round_id = r.id
         ))
    from public.team_rounds r
   where r.id = any (p_round_ids) and public.team_role(r.team_id) is not null
$$;

-- A round's results for a member: settles the team's due rounds first (closing is checked
-- when read), then answers {members, started, completed, visible, min_completed, results}.
-- results is the frozen aggregate, present only for a closed round that met the minimum.
create or replace function public.team_round_results(p_round_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_team uuid := (select r.team_id from public.team_rounds r where r.id = p_round_id);
  v_round public.team_rounds;
  v_progress record;
begin
  perform public._team_require(v_team, array['owner', 'admin', 'member']);
  perform public.settle_team_rounds(v_team);
  select * into v_round from public.team_rounds r where r.id = p_round_id;
  select * into v_progress from public.team_round_progress(array[p_round_id]);
  return jsonb_build_object(
    'status', v_round.status,
    'members', v_progress.members,
    'started', v_progress.started,
    'completed', v_progress.completed,
    'visible', v_round.results is not null,
    'min_completed', coalesce((select s.min_results from public.team_settings s where s.id), 3),
    'results', v_round.results
  );
end
$$;

-- Rounds stop being due, and expired invitations are marked, by the server's hourly job.
create or replace function public.expire_team_invitations() returns integer
language sql
set search_path = ''
as $$
  with expired as (
    update public.team_invitations i set status = 'expired'
     where i.status = 'pending' and i.expires_at <= now()
    returning 1
  ), forgotten as (
    -- Answered or expired a month ago: nothing left to show anyone.
    delete from public.team_invitations i
     where i.status <> 'pending' and coalesce(i.responded_at, i.expires_at) < now() - interval '30 days'
    returning 1
  )
  select ((select count(*) from expired) + (select count(*) from forgotten))::int
$$;

-- Pure, but checked on every insert of a round: whoever inserts needs it.
revoke execute on function public.pillar_in_mode(text, text) from public, anon;
grant execute on function public.pillar_in_mode(text, text) to authenticated, service_role;
revoke execute on function public.team_role(uuid) from public, anon;
grant execute on function public.team_role(uuid) to authenticated, service_role;
revoke execute on function public.create_team(text, text) from public, anon;
grant execute on function public.create_team(text, text) to authenticated;
revoke execute on function public.join_team(text) from public, anon;
grant execute on function public.join_team(text) to authenticated;
revoke execute on function public.rotate_team_invite_code(uuid) from public, anon;
grant execute on function public.rotate_team_invite_code(uuid) to authenticated;
revoke execute on function public.transfer_team_ownership(uuid, uuid) from public, anon;
grant execute on function public.transfer_team_ownership(uuid, uuid) to authenticated;
revoke execute on function public.accept_team_invitation(uuid) from public, anon;
grant execute on function public.accept_team_invitation(uuid) to authenticated;
revoke execute on function public.close_team_round(uuid) from public, anon;
grant execute on function public.close_team_round(uuid) to authenticated;
revoke execute on function public.team_round_progress(uuid[]) from public, anon;
grant execute on function public.team_round_progress(uuid[]) to authenticated;
revoke execute on function public.team_round_results(uuid) from public, anon;
grant execute on function public.team_round_results(uuid) to authenticated;
-- Internal: reachable only from the functions above (which run as the owner) and the server.
revoke execute on function public._team_admit(uuid, uuid, text) from public, anon, authenticated;
revoke execute on function public._team_require(uuid, text[]) from public, anon, authenticated;
revoke execute on function public._team_caller() from public, anon, authenticated;
revoke execute on function public._team_round_aggregate(uuid, timestamptz, integer) from public, anon, authenticated;
revoke execute on function public._team_round_freeze(uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.settle_team_rounds(uuid) from public, anon, authenticated;
revoke execute on function public.expire_team_invitations() from public, anon, authenticated;
grant execute on function public.settle_team_rounds(uuid) to service_role;
grant execute on function public.expire_team_invitations() to service_role;
