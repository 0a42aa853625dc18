-- Activity events (issue 16): what the SPA reports a user did (pages seen, pillars picked,
-- modals, clicks…), in batches of 1..100 through POST /api/v1/events. Operators count them per
-- type (admin analytics); the user reads their own (export).
--
-- The server is the only writer: the route checks the batch, then writes as service_role with
-- the user id taken from the verified token, in one multi-row insert. Users get select on their
-- own rows and nothing else — an event is a cause of the daily-activity award, so a user able to
-- insert rows directly could date and count activity as they liked.
--
-- The id is made by the client (so a retried batch is recognised) and is unique per user, not
-- globally: another user sending the same uuid stores their own event, and learns nothing about
-- whether someone else used it.

create table public.events (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null,
  type text not null check (type in (
    'page_view', 'pillar_selected', 'assessment_started', 'assessment_completed',
    'question_answered', 'modal_opened', 'modal_closed', 'navigation_click',
    'recommendation_clicked', 'activity_started', 'graph_interaction', 'chatbot_interaction',
    'content_engagement', 'insight_viewed'
  )),
  -- The client's clock, bounded by the API (7 days back, 5 minutes ahead of the server's);
  -- received_at is ours and is what nothing on the client can move.
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  session_id text check (session_id is null or char_length(session_id) <= 128),
  page text check (page is null or char_length(page) <= 512),
  -- The ten pillar ids of pilar-facts.json (services/pilar/framework.ts).
  pillar_id text check (pillar_id is null or pillar_id in (
    'divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp',
    'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'
  )),
  -- The API caps properties at 2 KiB of UTF-8 as JSON with every number written out in full
  -- (jsonb prints 1e300 as 301 digits); jsonb's text form adds only a space after each ':' and
  -- ',' (at most 1.5 ×), so a value the API let through fits this backstop of twice that.
  properties jsonb not null default '{}'::jsonb check (
    jsonb_typeof(properties) = 'object' and octet_length(properties::text) <= 4096
  ),
  primary key (user_id, id)
);

-- Admin analytics: events per type, and users active, over a time range of received_at — the
-- server's clock, so a past window's counts never change (a late batch with an old occurred_at
-- lands in the window it was received in).
create index events_received_type_idx on public.events (received_at, type);
-- A user's own events, newest first (export, their own reads).
create index events_user_occurred_idx on public.events (user_id, occurred_at desc);

alter table public.events enable row level security;

-- Supabase grants everything to anon and authenticated by default: take it back. Users read
-- their own rows; there is no insert, update or delete grant for them at all (not merely no
-- policy), so a direct write is refused before any policy is consulted.
revoke all on public.events from anon, authenticated;
grant select on public.events to authenticated;
grant all on public.events to service_role;

create policy events_select_own on public.events
  for select to authenticated
  using (user_id = (select auth.uid()));
