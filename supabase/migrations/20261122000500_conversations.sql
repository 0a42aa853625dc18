-- Chat history with the AI coach. A conversation expires CONVERSATION_TTL_DAYS after its last
-- message (expires_at is set by the server on every message); expired conversations are
-- invisible to their owner and are deleted by the cleanup job.

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 200),
  pillar_id text check (pillar_id in (
    'divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp',
    'normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'
  )),
  mode text check (mode in ('egalitarian', 'hierarchical')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The server sets it from CONVERSATION_TTL_DAYS (at most a year).
  expires_at timestamptz not null check (expires_at <= now() + interval '366 days')
);

create index conversations_owner_newest on public.conversations (user_id, created_at desc, id desc);
create index conversations_expires_at on public.conversations (expires_at);

create table public.conversation_messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  -- The conversation's owner, repeated so row-level security needs no join on reads.
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('user', 'assistant')),
  -- Capped: a runaway model answer is truncated by the server before it gets here.
  content text not null check (char_length(content) between 1 and 32000),
  provider text,
  model text,
  input_tokens integer,
  output_tokens integer,
  created_at timestamptz not null default clock_timestamp()
);

create index conversation_messages_in_order on public.conversation_messages (conversation_id, created_at, id);

alter table public.conversations enable row level security;
alter table public.conversation_messages enable row level security;

-- Users read and delete their own history; only the server writes it (as the service role,
-- filtering by owner itself), so nobody can forge an assistant message, fake token counts or
-- push an expiry out through Supabase's REST API.
revoke all on public.conversations, public.conversation_messages from anon, authenticated;
grant select, delete on public.conversations to authenticated;
grant select on public.conversation_messages to authenticated;
grant all on public.conversations, public.conversation_messages to service_role;

-- Owner only, and an expired conversation is gone for its owner too.
create policy conversations_select_own on public.conversations
  for select to authenticated
  using (user_id = (select auth.uid()) and expires_at > now());
create policy conversations_delete_own on public.conversations
  for delete to authenticated
  using (user_id = (select auth.uid()));

create policy conversation_messages_select_own on public.conversation_messages
  for select to authenticated
  using (
    user_id = (select auth.uid())
    and exists (
      select 1 from public.conversations c
       where c.id = conversation_id and c.user_id = (select auth.uid()) and c.expires_at > now()
    )
  );
