-- Content (issue 15): blog posts, pages and resources in markdown, written by admins and read
-- by everyone once published. The API never renders HTML; the SPA renders the markdown.
--
-- Two locks, as everywhere: the server checks the admin role (requireAdmin, then the service)
-- and writes as service_role; the policies below are the second lock for anyone reaching the
-- table another way (Supabase's REST API with a user's token): anon and authenticated read
-- published rows only, admins (public.is_admin()) read and write everything.

-- Whether the caller is an admin: the server-controlled app_metadata role in the verified JWT
-- (Supabase, and local tokens minted with --admin), or the role in the caller's own profile row —
-- the same two sources AuthService reads. Security definer so it can read the profile whatever
-- the policies on user_profiles become; it answers only about auth.uid(), never about an argument.
create or replace function public.is_admin() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role', '') = 'admin'
      or exists (
           select 1 from public.user_profiles p
            where p.id = (select auth.uid()) and p.role = 'admin'
         )
$$;

revoke execute on function public.is_admin() from public;
grant execute on function public.is_admin() to anon, authenticated, service_role;

-- Tags: at most 20, each 1..40 characters, no nulls. A check constraint cannot hold a subquery,
-- so the per-element rule is an immutable function over the array.
create or replace function public.content_tags_valid(tags text[]) returns boolean
language sql
immutable
set search_path = ''
as $$
  select cardinality(tags) <= 20
     and coalesce((select bool_and(t is not null and char_length(t) between 1 and 40) from unnest(tags) t), true)
$$;

-- Executable by everyone on purpose: a check constraint runs its function as the writing role.
grant execute on function public.content_tags_valid(text[]) to anon, authenticated, service_role;

create table public.content (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique
    check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 120),
  kind text not null check (kind in ('blog', 'page', 'resource')),
  title text not null check (char_length(title) between 1 and 200),
  summary text check (summary is null or char_length(summary) <= 500),
  body text not null default '' check (char_length(body) <= 200000),
  -- Every element a real pillar id (the ten of pilar-facts.json, as public.pillars holds them);
  -- `<@` alone would let a NULL element through, hence the array_position check.
  pillar_ids text[] not null default '{}' check (
    pillar_ids <@ array['divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp',
                        'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp']::text[]
    and array_position(pillar_ids, null) is null
  ),
  tags text[] not null default '{}' check (public.content_tags_valid(tags)),
  status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
  -- An author who deletes their account leaves the article behind, unattributed.
  author_id uuid references auth.users (id) on delete set null,
  -- Set when first published and kept from then on (archiving and republishing keep it:
  -- docs/decisions.md "Content"). A published row always has one; a draft never does.
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search tsvector generated always as (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
    || setweight(to_tsvector('english', body), 'C')
  ) stored,
  constraint content_published_has_date check (status <> 'published' or published_at is not null),
  constraint content_draft_has_no_date check (status <> 'draft' or published_at is null)
);

-- The public list: published, newest first, keyset on (published_at, id).
create index content_list_published_idx on public.content (status, published_at desc, id desc);
-- Admin lists of drafts or archived items: newest created first.
create index content_list_created_idx on public.content (status, created_at desc, id desc);
create index content_search_idx on public.content using gin (search);
create index content_tags_idx on public.content using gin (tags);
create index content_pillars_idx on public.content using gin (pillar_ids);

create trigger content_touch_updated_at
  before update on public.content
  for each row execute function public.touch_updated_at();

alter table public.content enable row level security;

-- Supabase grants everything to anon and authenticated by default: take it back, then grant
-- exactly what the policies are for. Writes are column-listed: id, created_at, updated_at and
-- the generated search column are the database's.
revoke all on public.content from anon, authenticated;
grant select on public.content to anon, authenticated;
grant insert (slug, kind, title, summary, body, pillar_ids, tags, status, author_id, published_at)
  on public.content to authenticated;
grant update (slug, kind, title, summary, body, pillar_ids, tags, status, author_id, published_at)
  on public.content to authenticated;
grant delete on public.content to authenticated;
grant all on public.content to service_role;

create policy content_read_published on public.content
  for select to anon, authenticated
  using (status = 'published');

create policy content_admin_read on public.content
  for select to authenticated
  using ((select public.is_admin()));

create policy content_admin_insert on public.content
  for insert to authenticated
  with check ((select public.is_admin()));

create policy content_admin_update on public.content
  for update to authenticated
  using ((select public.is_admin()))
  with check ((select public.is_admin()));

create policy content_admin_delete on public.content
  for delete to authenticated
  using ((select public.is_admin()));

-- Seed pages written for this project, so a fresh start shows content (and, once the knowledge
-- link indexes published items, the coach can cite them). Facts follow pilar-facts.json and the
-- team-results rules of the teams migration. Published a minute apart: the list (newest first)
-- then shows them in reading order.
insert into public.content (slug, kind, title, summary, body, pillar_ids, tags, status, published_at) values
(
  'what-is-pilar',
  'page',
  'What PILAR is',
  'PILAR describes how a group coordinates: two modes, five pillars in each, four forces in every pillar. You rate statements about your group, see where it stands, and get coaching grounded in the framework.',
  $md$# What PILAR is

PILAR is a way of looking at **how a group coordinates**: who is listened to, how help moves,
what people expect from the future and from each other. It does not rate individuals. Every
statement you answer is about *your group*, as you experience it.

## The structure

- **Two modes.** A group can coordinate *egalitarian*ly (peers, shared goals, influence that is
  earned by being liked and trusted) or *hierarchical*ly (positions, formal authority, personal
  careers). Most real groups show both; see [the two modes](/content/the-two-modes).
- **Five pillars in each mode**, ten in all. They come in matching pairs, one per mode:

  | Theme | Egalitarian | Hierarchical |
  |---|---|---|
  | Expression | Diverse Expression | Normative Expression |
  | Reciprocity | Indirect Reciprocity | Direct Reciprocity |
  | Influence | Popularity | Status |
  | Prospects | Group Prospects | Own Prospects |
  | Respect | Outgoing Respect | Incoming Respect |

- **Four forces in every pillar.** Diverse Expression, for example, is made of Psychological
  Safety, Challenge Welcome, Growth Mindset and Constructive Dissent. The forces are what the
  assessment's statements ask about.
- **Connections between pillars.** Within a mode the pillars push on each other: some connections
  *reinforce* (more of one brings more of the other), some are *inverse* (more of one brings less
  of the other), and some are *discretionary* (the group decides which way they go).

## What you can do here

1. **Take an assessment** of one pillar: eight statements, each rated from 1 to 5. Your answers
   become a score from 0 to 100 per force and for the pillar. Your answers and scores are yours
   alone.
2. **Get coaching** on your result. The coach is grounded in the PILAR knowledge base and says
   which passages it used.
3. **Run a team round**: every member answers the same pillar, and the team sees a group profile
   — means, spread and consensus — without anyone's individual answers. See
   [how to read a team's results](/content/reading-team-results).
$md$,
  '{}',
  array['framework', 'getting-started'],
  'published',
  now()
),
(
  'the-two-modes',
  'page',
  'The two modes: egalitarian and hierarchical',
  'Egalitarian groups coordinate among peers through shared goals and earned regard; hierarchical groups through positions, exchange and personal prospects. Each mode has five pillars, and the pillars pair up across the modes.',
  $md$# The two modes: egalitarian and hierarchical

PILAR distinguishes two ways a group can hold together. Neither is "the good one": a hospital
ward in an emergency, a research lab and a sales team each need a different mix. What matters is
knowing which mode your group is actually in, and whether that is the one you want.

## Egalitarian mode

People relate as peers. Influence is earned by being liked, trusted and useful, and the group's
future is a shared one. Its five pillars:

- **Diverse Expression** — how freely members voice different views, question plans and bring
  unusual ideas (Psychological Safety, Challenge Welcome, Growth Mindset, Constructive Dissent).
- **Indirect Reciprocity** — generosity that circulates through the group instead of being
  traded one to one (Unconditional Helping, Resource Fluidity, Pay-it-Forward Culture,
  Reciprocity Trust).
- **Popularity** — influence gained by warmth and connection rather than rank (Warmth &
  Acceptance, Informal Influence, Social Support, Belonging Signals).
- **Group Prospects** — a shared sense of where the group is going (Collective Goal Clarity, Team
  Success Belief, Shared Future Vision, Joint Accountability).
- **Outgoing Respect** — the regard members extend to their peers (Peer Competence, Trust in
  Intentions, Quality Street, Delegation Confidence).

## Hierarchical mode

People relate through positions. Authority is formal, help is exchanged, and each person's
prospects are their own. Its five pillars:

- **Normative Expression** — the pull toward established norms (Predictability Preferred, Rewards
  of Conformity, Stability Preference, Norm Enforcement).
- **Direct Reciprocity** — exchange kept on a one-to-one ledger (Conditional Help, Favor Trading,
  Pick and Stick, Debt Leverage).
- **Status** — influence that comes from position (Formal Authority, Command Capacity, Built-in
  Advantage, Control of Resources).
- **Own Prospects** — the focus on one's personal trajectory (Personal Advancement, Credit
  Attribution, Self-Serving Goals, Incentive Alignment).
- **Incoming Respect** — the regard a person seeks from those above and around them (Perceived
  Competence, Reputation Management, External Locus of Control, Visibility of Delivery).

## Reading the pairs

Each egalitarian pillar has a hierarchical counterpart: Diverse and Normative Expression,
Indirect and Direct Reciprocity, Popularity and Status, Group and Own Prospects, Outgoing and
Incoming Respect. A group strong in Status but weak in Popularity listens to titles, not to the
people others trust; a group strong in Own Prospects but weak in Group Prospects has careers
without a common goal. Assess a pillar and its counterpart to see which way your group leans.
$md$,
  array['divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp', 'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'],
  array['framework', 'modes'],
  'published',
  now() - interval '1 minute'
),
(
  'reading-team-results',
  'page',
  'How to read a team''s results',
  'A team round shows a group profile — the mean per pillar and force, and from enough completions the spread and consensus — once the round is closed. No one''s individual answers are ever shown, and small groups see less on purpose.',
  $md$# How to read a team's results

In a team round every member answers the same pillar on their own. Nobody — not the owner, not
an admin, not the coach — ever sees another member's answers or scores. What the team sees is a
**group profile** computed from the completed assessments.

## When results appear

- **While the round is open, only counts are shown**: how many members started and completed. A
  mean that moved with every completion would give each newcomer's score away.
- **Results appear once the round is closed** — by an owner or admin, at its closing time, or by
  itself when every member has completed — **and at least the minimum number of members
  completed** (3 unless the operator configured more). A round that closes with fewer
  completions stays hidden.
- Completions after the close do not count.

## What the numbers mean

Scores run from 0 to 100 (answers 1..5; all 4s make 75).

- **Mean** — the group's average for the pillar and for each force. This is the headline: where
  the group stands.
- **Standard deviation (sd)** and **consensus** — how far members' views are apart. Consensus is
  `1 − sd/50`, from 0 (views as far apart as they can be) to 1 (everyone agrees). A middling mean
  with low consensus is not a middling group: it is a split one, and worth a conversation.
  These appear **from 4 completions**: with 3, a member who knows their own score could work out
  the other two.
- **Minimum and maximum** of the pillar score appear **from 5 completions**: below that the
  lowest or highest score is too easily one person's.
- A force that fewer than the minimum number of members answered is left out of the profile.

## Using them

1. Start with the weakest force by mean, then look at its consensus: low mean and high consensus
   means the group agrees something is missing; low consensus means people experience the group
   differently, and the first step is to find out why.
2. Ask the team coach for a reading: it sees the same aggregate you do, never anyone's answers,
   and suggests a few concrete actions.
3. Run the same pillar again later and compare rounds in the team's analytics.
$md$,
  '{}',
  array['teams', 'results', 'privacy'],
  'published',
  now() - interval '2 minutes'
);
