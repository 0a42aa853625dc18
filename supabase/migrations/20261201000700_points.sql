-- Points, levels, streaks and badges (issue 16). The server is the only source of points: every
-- award is a row of an append-only ledger, written by the functions below in the same
-- transaction as its cause, at most once per cause (a unique cause key per user). The system this
-- replaces let the browser add points to a JSON array; here users hold no write privilege on any
-- of these tables, and the functions are internal (service role and the definer functions only).
--
-- Point rules (docs/progress.md). Only a fully answered assessment (a response to every question
-- of its pillar in assessment_questions) earns anything: completing a partial one is allowed but
-- awards nothing, or one answer and a complete, looped, would farm points and badges.
--   assessment completed          100 (cause assessment:<id>) for the first of its pillar (so of
--                                 its mode) ever awarded — deleting the earlier assessment does
--                                 not make the next one "first" again
--   assessment repeated            50 (cause assessment_repeated:<pillar>:<UTC date>): once per
--                                 pillar and UTC day; a further repeat that day earns no points
--   first assessment in a mode     50 (cause first_in_mode:<mode>)
--   team round completed           30 (cause team_round:<round id>) when the round is frozen with
--                                 its results published (at least min_results completions), to
--                                 each participant still a member then whose round assessment was
--                                 fully answered and completed by the close
--   daily activity                  5 (cause daily:<UTC date>), once per UTC day
--   streak bonus                   10 on reaching 3, 7, 14 and 30 consecutive UTC days (cause
--                                 streak:<n>:<first day of the run>): once per run of days
--
-- Concurrency: every award first locks the user's summary row, so one user's awards run one at a
-- time — two concurrent completions of different assessments of one pillar see each other, and
-- exactly one of them gets the 100 (and of repeats on one day, exactly one the 50). The unique
-- (user_id, cause_key) makes a retried or concurrent cause award once even without the lock.
--
-- Deadlocks: a completion, a daily note or an opt-in locks one summary only (its user's). Only
-- team-round awards lock several, and one transaction may freeze several rounds (settle_team_rounds
-- inside close_team_round or team_round_results, the hourly job), each with its own members, so
-- ordering members within a round is not enough: T1 freezing rounds {u2} then {u1} and T2
-- freezing {u1} then {u2} would wait on each other (40P01). So before its first summary lock a
-- round award takes one transaction-scoped advisory lock (ROUND_AWARDS_LOCK below): transactions
-- that lock several summaries do it one at a time, and every other one holds a single summary
-- and waits for nothing after it — no cycle can form. (A total user-id order across rounds would
-- need every award of the transaction deferred to one statement at commit; freezing a round is
-- rare — a close, a due round read, the hourly job — so serialising those awards costs nothing
-- that matters.) No award path waits for a round row after taking a summary lock: completing an
-- assessment never settles or closes a round (rounds settle on reads, closes and the hourly job,
-- in their own transactions), and settle_team_rounds skips rounds another transaction holds.

-- Catalogs ---------------------------------------------------------------------------------------

-- Eleven levels from 0 to 5,000 points; a user is at the highest level whose threshold they reach.
create table public.levels (
  number integer primary key check (number between 1 and 100),
  threshold integer not null unique check (threshold >= 0),
  title text not null check (char_length(title) between 1 and 80)
);

insert into public.levels (number, threshold, title) values
  (1, 0, 'Newcomer'),
  (2, 100, 'Observer'),
  (3, 250, 'Participant'),
  (4, 500, 'Contributor'),
  (5, 800, 'Collaborator'),
  (6, 1200, 'Bridge Builder'),
  (7, 1700, 'Facilitator'),
  (8, 2300, 'Catalyst'),
  (9, 3000, 'Group Coach'),
  (10, 4000, 'Culture Shaper'),
  (11, 5000, 'Group Dynamics Master');

-- Badge rules: a badge is earned when the rule's value reaches its threshold (for mode_complete,
-- in its mode). Evaluated by the award functions; a badge is earned once.
create table public.badges (
  key text primary key check (key ~ '^[a-z0-9_]{1,60}$'),
  name text not null check (char_length(name) between 1 and 80),
  description text not null check (char_length(description) between 1 and 300),
  rule text not null check (rule in ('pillar_score', 'streak', 'mode_complete', 'team_round', 'points')),
  threshold numeric not null check (threshold >= 0),
  mode text check (mode is null or mode in ('egalitarian', 'hierarchical')),
  position integer not null unique,
  constraint badges_mode_rule check ((rule = 'mode_complete') = (mode is not null))
);

insert into public.badges (key, name, description, rule, threshold, mode, position) values
  ('pillar_score_30', 'Foothold', 'Complete an assessment with an overall pillar score of at least 30.', 'pillar_score', 30, null, 1),
  ('pillar_score_60', 'Strong Ground', 'Complete an assessment with an overall pillar score of at least 60.', 'pillar_score', 60, null, 2),
  ('pillar_score_85', 'Keystone', 'Complete an assessment with an overall pillar score of at least 85.', 'pillar_score', 85, null, 3),
  ('streak_3', 'Warming Up', 'Be active on 3 consecutive days (UTC).', 'streak', 3, null, 4),
  ('streak_7', 'Steady Rhythm', 'Be active on 7 consecutive days (UTC).', 'streak', 7, null, 5),
  ('streak_14', 'Habit Formed', 'Be active on 14 consecutive days (UTC).', 'streak', 14, null, 6),
  ('streak_30', 'Unbroken Month', 'Be active on 30 consecutive days (UTC).', 'streak', 30, null, 7),
  ('all_pillars_egalitarian', 'Egalitarian Explorer', 'Complete an assessment of all five pillars of the egalitarian mode.', 'mode_complete', 5, 'egalitarian', 8),
  ('all_pillars_hierarchical', 'Hierarchical Explorer', 'Complete an assessment of all five pillars of the hierarchical mode.', 'mode_complete', 5, 'hierarchical', 9),
  ('first_team_round', 'Team Player', 'Complete your assessment in a team round that closed.', 'team_round', 1, null, 10),
  ('points_500', 'Rising', 'Earn 500 points.', 'points', 500, null, 11),
  ('points_1000', 'Established', 'Earn 1,000 points.', 'points', 1000, null, 12),
  ('points_5000', 'Luminary', 'Earn 5,000 points.', 'points', 5000, null, 13);

-- Per user ---------------------------------------------------------------------------------------

create table public.points_ledger (
  user_id uuid not null references auth.users (id) on delete cascade,
  -- The order of awards within one instant (PGlite's clock ticks in whole milliseconds).
  id bigint generated always as identity primary key,
  points integer not null check (points > 0),
  reason text not null check (reason in (
    'assessment_completed', 'assessment_repeated', 'first_in_mode', 'team_round_completed',
    'daily_activity', 'streak_bonus'
  )),
  cause_key text not null check (char_length(cause_key) between 1 and 200),
  -- The pillar an assessment award was for: decides "first of this pillar" and the all-pillars
  -- badges from what was awarded, not from assessments the user may since have deleted.
  pillar_id text check (pillar_id is null or pillar_id in (
    'divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp',
    'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'
  )),
  -- The assessment an assessment award was for (no foreign key: the award outlives a deleted
  -- assessment). A repeat's cause key names its pillar and day, not the assessment, so this is
  -- what keeps one assessment to one award.
  assessment_id uuid,
  created_at timestamptz not null,
  constraint points_ledger_once unique (user_id, cause_key),
  constraint points_ledger_pillar check (
    (pillar_id is not null) = (reason in ('assessment_completed', 'assessment_repeated'))
  ),
  constraint points_ledger_assessment check ((assessment_id is not null) = (pillar_id is not null))
);

-- One award per assessment, and the lookup that checks it.
create unique index points_ledger_assessment_once on public.points_ledger (user_id, assessment_id)
  where assessment_id is not null;

-- "Recent" on GET /gamification/me, newest first.
create index points_ledger_recent on public.points_ledger (user_id, created_at desc, id desc);

-- Append-only: nothing rewrites history. (Rows go only with their user, by the cascade.)
create or replace function public.points_ledger_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'the points ledger is append-only' using errcode = '42501';
end
$$;

create trigger points_ledger_append_only
  before update on public.points_ledger
  for each row execute function public.points_ledger_append_only();

-- One row per user who was ever awarded (or opted in to the leaderboard): the total and the
-- streak, updated by the award functions in the transaction of each award — the lock every
-- award of the user takes first. leaderboard_opt_in mirrors user_profiles (trigger below), so
-- the global board is one partial index scan.
create table public.points_summary (
  user_id uuid primary key references auth.users (id) on delete cascade,
  points integer not null default 0 check (points >= 0),
  streak_current integer not null default 0 check (streak_current >= 0),
  streak_longest integer not null default 0 check (streak_longest >= streak_current),
  last_active_date date,
  leaderboard_opt_in boolean not null default false,
  updated_at timestamptz not null default now()
);

-- The global leaderboard: the top N in order, and a caller's rank as a count of those ahead.
create index points_summary_board on public.points_summary (points desc, user_id) where leaderboard_opt_in;

create table public.user_badges (
  user_id uuid not null references auth.users (id) on delete cascade,
  badge_key text not null references public.badges (key) on delete cascade,
  earned_at timestamptz not null,
  primary key (user_id, badge_key)
);

-- Rarity: holders per badge.
create index user_badges_by_badge on public.user_badges (badge_key);

-- Privileges: the catalogs are public reference data; a user reads their own ledger, summary and
-- badges; nobody but the service (and the functions below) writes any of them.
alter table public.levels enable row level security;
alter table public.badges enable row level security;
alter table public.points_ledger enable row level security;
alter table public.points_summary enable row level security;
alter table public.user_badges enable row level security;

revoke all on public.levels, public.badges, public.points_ledger, public.points_summary,
  public.user_badges from anon, authenticated;
grant all on public.levels, public.badges, public.points_ledger, public.points_summary,
  public.user_badges to service_role;
grant select on public.levels, public.badges to anon, authenticated;
grant select on public.points_ledger, public.points_summary, public.user_badges to authenticated;

create policy levels_read on public.levels for select to anon, authenticated using (true);
create policy badges_read on public.badges for select to anon, authenticated using (true);
create policy points_ledger_select_own on public.points_ledger
  for select to authenticated
  using (user_id = (select auth.uid()));
create policy points_summary_select_own on public.points_summary
  for select to authenticated
  using (user_id = (select auth.uid()));
create policy user_badges_select_own on public.user_badges
  for select to authenticated
  using (user_id = (select auth.uid()));

-- Functions --------------------------------------------------------------------------------------
-- Internal: they take the user and the time from the server (p_at is its clock, injected in
-- tests), so they must never be callable by a user: revoked from public, anon and authenticated
-- below; the server calls them as service_role, the team functions as their owner.

-- The user's summary row, created when missing, locked for the rest of the transaction.
create or replace function public._progress_lock(p_user uuid) returns public.points_summary
language plpgsql
set search_path = ''
as $$
declare
  v_row public.points_summary;
begin
  -- Every award calls this, most often for a row that exists (and that this transaction may
  -- hold already): read first, insert only the first time.
  select * into v_row from public.points_summary s where s.user_id = p_user for update;
  if found then
    return v_row;
  end if;
  insert into public.points_summary (user_id, leaderboard_opt_in)
  values (p_user, coalesce((select p.leaderboard_opt_in from public.user_profiles p where p.id = p_user), false))
  on conflict (user_id) do nothing;
  select * into v_row from public.points_summary s where s.user_id = p_user for update;
  return v_row;
end
$$;

-- Grants every badge of p_rule whose threshold p_value reaches (and of p_mode, for mode rules).
create or replace function public._progress_badges(
  p_user uuid, p_rule text, p_value numeric, p_mode text, p_at timestamptz
) returns void
language sql
set search_path = ''
as $$
  insert into public.user_badges (user_id, badge_key, earned_at)
  select p_user, b.key, p_at
    from public.badges b
   where b.rule = p_rule and b.threshold <= p_value and b.mode is not distinct from p_mode
  on conflict (user_id, badge_key) do nothing
$$;

-- The one way points are added: once per (user, cause); the total and the points badges move
-- with it. Returns whether this call awarded. Callers hold the summary lock (_progress_lock).
create or replace function public._progress_award(
  p_user uuid, p_points integer, p_reason text, p_cause text, p_at timestamptz,
  p_pillar text default null, p_assessment uuid default null
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_total integer;
begin
  perform public._progress_lock(p_user);
  insert into public.points_ledger (user_id, points, reason, cause_key, pillar_id, assessment_id, created_at)
  values (p_user, p_points, p_reason, p_cause, p_pillar, p_assessment, p_at)
  on conflict (user_id, cause_key) do nothing;
  if not found then
    return false;
  end if;
  update public.points_summary s
     set points = s.points + p_points, updated_at = p_at
   where s.user_id = p_user
  returning s.points into v_total;
  perform public._progress_badges(p_user, 'points', v_total, null, p_at);
  return true;
end
$$;

-- Activity on the UTC day of p_at: the day's 5 points, the streak, and a streak bonus and badge
-- on reaching 3, 7, 14 or 30 days. A second call on the same day changes nothing.
create or replace function public.progress_note_activity(p_user uuid, p_at timestamptz) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_row public.points_summary := public._progress_lock(p_user);
  v_day date := (p_at at time zone 'UTC')::date;
  v_streak integer;
begin
  if v_row.last_active_date is not null and v_row.last_active_date >= v_day then
    -- Today was noted already. (An earlier day arriving late — clock skew between instances —
    -- still gets its own day's points, if it had none, but never moves the streak back.)
    if v_row.last_active_date > v_day then
      perform public._progress_award(p_user, 5, 'daily_activity', 'daily:' || v_day::text, p_at);
    end if;
    return;
  end if;
  v_streak := case when v_row.last_active_date = v_day - 1 then v_row.streak_current + 1 else 1 end;
  update public.points_summary s
     set streak_current = v_streak,
         streak_longest = greatest(s.streak_longest, v_streak),
         last_active_date = v_day,
         updated_at = p_at
   where s.user_id = p_user;
  perform public._progress_award(p_user, 5, 'daily_activity', 'daily:' || v_day::text, p_at);
  if v_streak in (3, 7, 14, 30) then
    perform public._progress_award(
      p_user, 10, 'streak_bonus', 'streak:' || v_streak || ':' || (v_day - (v_streak - 1))::text, p_at
    );
  end if;
  perform public._progress_badges(p_user, 'streak', v_streak, null, p_at);
end
$$;

-- A completed assessment of the user's, fully answered: 100 for the first of its pillar, else 50
-- once per pillar and UTC day of p_at; 50 for the first in its mode; the pillar-score and
-- all-pillars badges (earned once each, so evaluated for every fully answered completion, even a
-- repeat that earns no points); and the day's activity. Nothing but the day's activity for a
-- partial one; nothing at all for an assessment that is not the user's or not completed. One
-- award per assessment (points_ledger.assessment_id): a second call changes nothing.
create or replace function public.progress_assessment_completed(
  p_user uuid, p_assessment_id uuid, p_at timestamptz
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_session record;
  v_score numeric;
  v_pillars integer;
begin
  perform public._progress_lock(p_user);
  select s.pillar_id, s.mode, s.results, s.responses into v_session
    from public.assessment_sessions s
   where s.id = p_assessment_id and s.user_id = p_user and s.status = 'completed';
  if not found then
    return;
  end if;
  -- Every question of the pillar answered, judged by the seeded bank, not by the results
  -- object's own counts. (A stored response is always a valid 1..5 answer to a question of the
  -- pillar: submit_assessment_answer writes nothing else.)
  if exists (select 1 from public.assessment_questions q where q.pillar_id = v_session.pillar_id)
     and not exists (
       select 1 from public.assessment_questions q
        where q.pillar_id = v_session.pillar_id and not (v_session.responses ? q.id)
     ) then
    -- Under the lock, so a concurrent completion of the same pillar has either committed its
    -- award (seen here) or waits for this one.
    if not exists (
      select 1 from public.points_ledger l where l.user_id = p_user and l.assessment_id = p_assessment_id
    ) then
      if not exists (
        select 1 from public.points_ledger l where l.user_id = p_user and l.pillar_id = v_session.pillar_id
      ) then
        perform public._progress_award(
          p_user, 100, 'assessment_completed', 'assessment:' || p_assessment_id::text, p_at,
          v_session.pillar_id, p_assessment_id
        );
        perform public._progress_award(p_user, 50, 'first_in_mode', 'first_in_mode:' || v_session.mode, p_at);
      else
        -- At most one repeat award per pillar and UTC day: the cause is the pillar's day.
        perform public._progress_award(
          p_user, 50, 'assessment_repeated',
          'assessment_repeated:' || v_session.pillar_id || ':' || ((p_at at time zone 'UTC')::date)::text,
          p_at, v_session.pillar_id, p_assessment_id
        );
      end if;
    end if;
    v_score := (v_session.results ->> 'pillar_score')::numeric;
    if v_score is not null then
      perform public._progress_badges(p_user, 'pillar_score', v_score, null, p_at);
    end if;
    select count(distinct l.pillar_id) into v_pillars
      from public.points_ledger l
     where l.user_id = p_user and l.pillar_id is not null
       and public.pillar_in_mode(l.pillar_id, v_session.mode);
    perform public._progress_badges(p_user, 'mode_complete', v_pillars, v_session.mode, p_at);
  end if;
  perform public.progress_note_activity(p_user, p_at);
end
$$;

-- A round being frozen (called by _team_round_freeze after it wrote the frozen figures): 30
-- points and the team-round badge — only when the round's results were published (its frozen
-- aggregate is not null: at least min_results completions), and only for participants who are
-- still members as it freezes and whose round assessment was fully answered and completed by
-- p_closed_at. A round of one, or of too few to publish, pays nothing, and nor does leaving the
-- team before the close. Takes the round-awards advisory lock before any summary lock (the
-- header: transactions that freeze several rounds lock summaries one at a time).
create or replace function public.progress_team_round_completed(p_round_id uuid, p_closed_at timestamptz)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_user uuid;
  v_locked boolean := false;
begin
  for v_user in
    select p.user_id
      from public.team_rounds r
      join public.team_round_participants p on p.round_id = r.id
      join public.team_members m on m.team_id = r.team_id and m.user_id = p.user_id
      join public.assessment_sessions s on s.id = p.assessment_id
     where r.id = p_round_id and r.status = 'closed' and r.results is not null
       and s.status = 'completed' and s.completed_at <= p_closed_at
       and not exists (
         select 1 from public.assessment_questions q
          where q.pillar_id = s.pillar_id and not (s.responses ? q.id)
       )
     order by p.user_id
  loop
    if not v_locked then
      -- ROUND_AWARDS_LOCK: one key for every round award (a transaction-scoped advisory lock).
      perform pg_advisory_xact_lock(7166001600);
      v_locked := true;
    end if;
    if public._progress_award(v_user, 30, 'team_round_completed', 'team_round:' || p_round_id::text, p_closed_at) then
      perform public._progress_badges(v_user, 'team_round', 1, null, p_closed_at);
    end if;
  end loop;
end
$$;

-- _team_round_freeze from 20261201000100_teams.sql, unchanged but for the award at its end: the
-- points for a round are written in the transaction that closes it, whichever path closes it
-- (an owner or admin, closes_at passing, every member completing, the hourly job).
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
  perform public.progress_team_round_completed(p_round_id, p_closed_at);
end
$$;

-- The name a leaderboard shows: the display name the user chose, else null. AuthService names a
-- profile after its e-mail's local part on first sight, and a board showing that would show half
-- an address; a name counts as chosen once the profile's display_name is changed from it (PATCH
-- /users/me, or an update of the column as the user), which the trigger below records.
alter table public.user_profiles
  add column display_name_chosen boolean not null default false;

create or replace function public.user_profiles_note_chosen_name() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.display_name is distinct from old.display_name then
    new.display_name_chosen := new.display_name is not null;
  end if;
  return new;
end
$$;

create trigger user_profiles_note_chosen_name
  before update of display_name on public.user_profiles
  for each row execute function public.user_profiles_note_chosen_name();

create or replace function public._board_name(p_display_name text, p_chosen boolean) returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_chosen then p_display_name end
$$;

-- The team leaderboard for a member of the team (anyone else: PT404, as for a missing team):
-- every member, with 0 points when never awarded, ranked by points (ties share a rank). Security
-- definer because a member may not read teammates' summaries or profiles themselves; it answers
-- only about the caller's own teams, and only display names (never e-mail, nor a name that is
-- a name the user did not choose: _board_name).
create or replace function public.team_leaderboard(p_team_id uuid)
returns table (user_id uuid, display_name text, points integer, rank integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform public._team_require(p_team_id, array['owner', 'admin', 'member']);
  return query
    select m.user_id, public._board_name(p.display_name, p.display_name_chosen), coalesce(s.points, 0),
           (rank() over (order by coalesce(s.points, 0) desc))::integer
      from public.team_members m
      left join public.points_summary s on s.user_id = m.user_id
      left join public.user_profiles p on p.id = m.user_id
     where m.team_id = p_team_id
     order by 4, m.user_id;
end
$$;

-- Keeps points_summary.leaderboard_opt_in equal to the profile's. Security definer: the user
-- changes their own profile (as authenticated, who may not write summaries); it writes only the
-- row of the profile being changed, and only that column.
create or replace function public.points_summary_follow_opt_in() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.points_summary (user_id, leaderboard_opt_in)
  values (new.id, new.leaderboard_opt_in)
  on conflict (user_id) do update set leaderboard_opt_in = excluded.leaderboard_opt_in;
  return null;
end
$$;

create trigger user_profiles_opt_in_to_summary
  after update of leaderboard_opt_in on public.user_profiles
  for each row when (old.leaderboard_opt_in is distinct from new.leaderboard_opt_in)
  execute function public.points_summary_follow_opt_in();
create trigger user_profiles_opt_in_on_insert
  after insert on public.user_profiles
  for each row when (new.leaderboard_opt_in)
  execute function public.points_summary_follow_opt_in();

-- Profiles opted in before this migration.
insert into public.points_summary (user_id, leaderboard_opt_in)
select p.id, true from public.user_profiles p where p.leaderboard_opt_in
on conflict (user_id) do update set leaderboard_opt_in = true;

revoke execute on function public.points_ledger_append_only() from public, anon, authenticated;
revoke execute on function public.points_summary_follow_opt_in() from public, anon, authenticated;
revoke execute on function public._progress_lock(uuid) from public, anon, authenticated;
revoke execute on function public._progress_badges(uuid, text, numeric, text, timestamptz) from public, anon, authenticated;
revoke execute on function public._progress_award(uuid, integer, text, text, timestamptz, text, uuid) from public, anon, authenticated;
revoke execute on function public._board_name(text, boolean) from public, anon, authenticated;
revoke execute on function public.user_profiles_note_chosen_name() from public, anon, authenticated;
revoke execute on function public.progress_note_activity(uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.progress_assessment_completed(uuid, uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.progress_team_round_completed(uuid, timestamptz) from public, anon, authenticated;
grant execute on function public._progress_lock(uuid) to service_role;
grant execute on function public._progress_badges(uuid, text, numeric, text, timestamptz) to service_role;
grant execute on function public._progress_award(uuid, integer, text, text, timestamptz, text, uuid) to service_role;
grant execute on function public._board_name(text, boolean) to service_role;
grant execute on function public.progress_note_activity(uuid, timestamptz) to service_role;
grant execute on function public.progress_assessment_completed(uuid, uuid, timestamptz) to service_role;
grant execute on function public.progress_team_round_completed(uuid, timestamptz) to service_role;
revoke execute on function public.team_leaderboard(uuid) from public, anon;
grant execute on function public.team_leaderboard(uuid) to authenticated;
