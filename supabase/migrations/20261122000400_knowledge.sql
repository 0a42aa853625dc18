-- The PILAR framework as reference tables, and the knowledge base (documents, chunks with
-- pgvector embeddings and full-text vectors) searched by match_knowledge.

-- pgvector lives in `extensions` where Supabase enables it today, but projects that enabled it
-- before 2023 often have it in `public`; then this line does nothing. So nothing below names the
-- schema: what uses pgvector's type, operator class or operators is created with format(),
-- with the schema looked up in pg_extension (see docs/decisions.md).
create extension if not exists vector with schema extensions;

-- Framework reference data: ids, names, modes and connection types are facts; descriptions
-- are written for this project.
create table public.pillars (
  id text primary key,
  mode text not null check (mode in ('egalitarian', 'hierarchical')),
  abbreviation text not null,
  title text not null,
  color text not null,
  description text not null
);

create table public.forces (
  pillar_id text not null references public.pillars (id),
  key text not null,
  name text not null,
  position integer not null check (position between 1 and 4),
  description text not null,
  primary key (pillar_id, key),
  unique (pillar_id, position)
);

create table public.force_connections (
  id text primary key,
  mode text not null check (mode in ('egalitarian', 'hierarchical')),
  name text,
  type text not null check (type in ('reinforce', 'inverse', 'discretionary')),
  from_pillar text not null references public.pillars (id),
  to_pillar text not null references public.pillars (id),
  description text not null,
  check (from_pillar <> to_pillar)
);

insert into public.pillars (id, mode, abbreviation, title, color, description) values
  ('normexp', 'hierarchical', 'NormExp', 'Normative Expression', 'violet', 'Normative Expression, in the hierarchical mode, is the pull toward established norms: a preference for predictable, conforming behaviour, rewards for fitting in, resistance to disruption and active correction of those who deviate.'),
  ('dirrecip', 'hierarchical', 'DirRecip', 'Direct Reciprocity', 'pink', 'Direct Reciprocity is exchange kept on a one-to-one ledger: help given on condition of a return, favours traded, stable alliances with chosen partners, and debts used as leverage.'),
  ('status', 'hierarchical', 'Status', 'Status', 'indigo', 'Status is influence that comes from position in a hierarchy: formal authority, the capacity to command, advantages built into one''s place, and control over resources others need.'),
  ('ownprosp', 'hierarchical', 'OwnProsp', 'Own Prospects', 'emerald', 'Own Prospects is the focus on one''s personal trajectory within a hierarchy: career advancement, credit for results, individual goals that may diverge from the group''s, and behaviour shaped by individual incentives.'),
  ('incresp', 'hierarchical', 'IncResp', 'Incoming Respect', 'amber', 'Incoming Respect is the regard a person seeks from those above and around them: being seen as competent, managing reputation, depending on others'' judgements, and making one''s delivery visible.'),
  ('divsexp', 'egalitarian', 'DivsExp', 'Diverse Expression', 'violet', 'Diverse Expression describes how freely members of an egalitarian group voice different views, question plans and bring unusual ideas. Where it is strong, people speak up without fear, disagreement sharpens decisions and mistakes become lessons; where it is weak, the group converges too early and problems stay hidden.'),
  ('indrecip', 'egalitarian', 'IndRecip', 'Indirect Reciprocity', 'pink', 'Indirect Reciprocity describes generosity that circulates through a group rather than being traded one to one. Members help whoever needs it and trust that help will come back from someone, sometime. It keeps resources flowing to where they are needed without anyone keeping accounts.'),
  ('popularity', 'egalitarian', 'Popularity', 'Popularity', 'indigo', 'Popularity, in the egalitarian mode, is the influence people gain by being liked, warm and socially connected rather than by rank. It shapes who is listened to, how support is given and whether members feel they belong.'),
  ('grpprosp', 'egalitarian', 'GrpProsp', 'Group Prospects', 'emerald', 'Group Prospects is the shared sense of where the group is going and whether it will get there together: a clear collective goal, belief in the team''s success, a common picture of the future and joint ownership of results.'),
  ('outresp', 'egalitarian', 'OutResp', 'Outgoing Respect', 'amber', 'Outgoing Respect is the regard members extend to their peers: confidence in each other''s competence and intentions, care for the quality of shared work, and willingness to delegate without constant checking.');

insert into public.forces (pillar_id, key, name, position, description) values
  ('normexp', 'predictability_preferred', 'Predictability Preferred', 1, 'Predictability Preferred is a preference for established, predictable ways of working over novelty.'),
  ('normexp', 'rewards_of_conformity', 'Rewards of Conformity', 2, 'Rewards of Conformity is advancement and approval flowing to those who follow the group''s norms.'),
  ('normexp', 'stability_preference', 'Stability Preference', 3, 'Stability Preference is valuing a steady state over change, even when change might help.'),
  ('normexp', 'norm_enforcement', 'Norm Enforcement', 4, 'Norm Enforcement is members correcting each other quickly when an unwritten rule is broken.'),
  ('dirrecip', 'conditional_help', 'Conditional Help', 1, 'Conditional Help is helping mainly when a return is expected, weighing each request against past exchanges.'),
  ('dirrecip', 'favor_trading', 'Favor Trading', 2, 'Favor Trading is getting things done by trading favours and keeping track of who owes whom.'),
  ('dirrecip', 'pick_and_stick', 'Pick and Stick', 3, 'Pick and Stick is choosing a few trusted partners and sticking with them, often at the expense of others.'),
  ('dirrecip', 'debt_leverage', 'Debt Leverage', 4, 'Debt Leverage is using past favours to pressure people, so being in someone''s debt limits what you feel free to do.'),
  ('status', 'formal_authority', 'Formal Authority', 1, 'Formal Authority is decisions made by whoever holds the relevant title or position, and deference to rank.'),
  ('status', 'command_capacity', 'Command Capacity', 2, 'Command Capacity is leaders'' ability to direct others and expect instructions to be carried out.'),
  ('status', 'built_in_advantage', 'Built-in Advantage', 3, 'Built-in Advantage is advantages such as seniority, tenure or connections that come with a position and cannot simply be earned.'),
  ('status', 'control_of_resources', 'Control of Resources', 4, 'Control of Resources is power that comes from deciding who gets budgets, tools or information.'),
  ('ownprosp', 'personal_advancement', 'Personal Advancement', 1, 'Personal Advancement is a focus on what will advance one''s own career and standing.'),
  ('ownprosp', 'credit_attribution', 'Credit Attribution', 2, 'Credit Attribution is close attention to who gets credit, and efforts to make one''s own contribution visible.'),
  ('ownprosp', 'self_serving_goals', 'Self-Serving Goals', 3, 'Self-Serving Goals is personal targets pursued even when they conflict with the group''s outcomes.'),
  ('ownprosp', 'incentive_alignment', 'Incentive Alignment', 4, 'Incentive Alignment is behaviour shaped by how individual rewards are set, for better or worse.'),
  ('incresp', 'perceived_competence', 'Perceived Competence', 1, 'Perceived Competence is the effort to be seen as capable by those who evaluate you.'),
  ('incresp', 'reputation_management', 'Reputation Management', 2, 'Reputation Management is care over how each action affects one''s reputation, including avoiding risky tasks.'),
  ('incresp', 'external_locus_of_control', 'External Locus of Control', 3, 'External Locus of Control is the sense that one''s standing depends on judgements made by others, often above.'),
  ('incresp', 'visibility_of_delivery', 'Visibility of Delivery', 4, 'Visibility of Delivery is making sure work is seen by the right audience, sometimes more than doing unseen work.'),
  ('divsexp', 'psychological_safety', 'Psychological Safety', 1, 'Psychological Safety is the confidence that speaking up, admitting a mistake or asking a naive question will not be punished or ridiculed.'),
  ('divsexp', 'challenge_welcome', 'Challenge Welcome', 2, 'Challenge Welcome is the degree to which questioning a plan or an idea is treated as a contribution rather than as disloyalty.'),
  ('divsexp', 'growth_mindset', 'Growth Mindset', 3, 'Growth Mindset is the shared belief that abilities develop through effort and feedback, so setbacks are treated as learning rather than as verdicts.'),
  ('divsexp', 'constructive_dissent', 'Constructive Dissent', 4, 'Constructive Dissent is disagreement that is voiced openly and resolved in ways that improve decisions without damaging relationships.'),
  ('indrecip', 'unconditional_helping', 'Unconditional Helping', 1, 'Unconditional Helping is helping colleagues without expecting a direct return, often before being asked.'),
  ('indrecip', 'resource_fluidity', 'Resource Fluidity', 2, 'Resource Fluidity is time, tools and information moving freely to whoever in the group needs them, instead of being hoarded.'),
  ('indrecip', 'pay_it_forward_culture', 'Pay-it-Forward Culture', 3, 'Pay-it-Forward Culture is the habit of passing help received on to a third person, so generosity spreads through the group.'),
  ('indrecip', 'reciprocity_trust', 'Reciprocity Trust', 4, 'Reciprocity Trust is the trust that generosity toward the group will come back in some form, which lets people stop keeping score.'),
  ('popularity', 'warmth_acceptance', 'Warmth & Acceptance', 1, 'Warmth & Acceptance is friendliness and acceptance extended to members regardless of rank or output, including newcomers.'),
  ('popularity', 'informal_influence', 'Informal Influence', 2, 'Informal Influence is the sway well-liked members have over direction and decisions without holding formal authority.'),
  ('popularity', 'social_support', 'Social Support', 3, 'Social Support is noticing when someone struggles and stepping in with encouragement or practical help.'),
  ('popularity', 'belonging_signals', 'Belonging Signals', 4, 'Belonging Signals is the small rituals, shared jokes and gestures that tell members they are part of the group.'),
  ('grpprosp', 'collective_goal_clarity', 'Collective Goal Clarity', 1, 'Collective Goal Clarity is a shared, concrete understanding of what the group is trying to achieve and how each person contributes.'),
  ('grpprosp', 'team_success_belief', 'Team Success Belief', 2, 'Team Success Belief is members'' confidence that the group will succeed if it keeps working together.'),
  ('grpprosp', 'shared_future_vision', 'Shared Future Vision', 3, 'Shared Future Vision is a picture of the group''s future that members find worth working toward.'),
  ('grpprosp', 'joint_accountability', 'Joint Accountability', 4, 'Joint Accountability is owning outcomes together: sharing responsibility for misses and credit for successes.'),
  ('outresp', 'peer_competence', 'Peer Competence', 1, 'Peer Competence is respect for, and reliance on, the skills of one''s peers.'),
  ('outresp', 'trust_in_intentions', 'Trust in Intentions', 2, 'Trust in Intentions is assuming colleagues act in good faith, even when things go wrong.'),
  ('outresp', 'quality_street', 'Quality Street', 3, 'Quality Street is holding shared work to a high standard out of respect for those who will build on it.'),
  ('outresp', 'delegation_confidence', 'Delegation Confidence', 4, 'Delegation Confidence is handing important work to peers and letting them decide how to do it, without checking every step.');

insert into public.force_connections (id, mode, name, type, from_pillar, to_pillar, description) values
  ('ECP-01', 'egalitarian', null, 'discretionary', 'grpprosp', 'indrecip', 'From Group Prospects to Indirect Reciprocity runs a discretionary connection: whether Group Prospects strengthens or weakens Indirect Reciprocity depends on how the group chooses to act. Confidence in the group''s future can either free members to help each other generously or make them guard their effort for the shared goal; leaders and members decide which.'),
  ('ECP-02', 'egalitarian', 'Circle the Wagons', 'inverse', 'grpprosp', 'popularity', 'Circle the Wagons is an inverse connection: as Group Prospects grows stronger, it tends to weaken Popularity (and a weaker Group Prospects can strengthen it). When the group''s prospects look threatened, warmth can contract into an inner circle that closes ranks and becomes less welcoming to others.'),
  ('ECP-03', 'egalitarian', 'Desperate Times', 'inverse', 'grpprosp', 'divsexp', 'Desperate Times is an inverse connection: as Group Prospects grows stronger, it tends to weaken Diverse Expression (and a weaker Group Prospects can strengthen it). Under pressure to deliver, groups tend to suppress dissent and unusual ideas for the sake of speed, so voices narrow exactly when they are most needed.'),
  ('ECP-04', 'egalitarian', 'Scapegoating', 'reinforce', 'grpprosp', 'outresp', 'Scapegoating is a reinforcing connection: as Group Prospects grows stronger, it tends to strengthen Outgoing Respect. A strong drive toward the shared goal can sharpen judgements of peers, and when results slip, blame may settle on a few members rather than on the system.'),
  ('ECP-05', 'egalitarian', 'Mucking in Together', 'reinforce', 'indrecip', 'grpprosp', 'Mucking in Together is a reinforcing connection: as Indirect Reciprocity grows stronger, it tends to strengthen Group Prospects. Members who freely help each other pull together toward the shared goal, raising confidence that the group will succeed.'),
  ('ECP-06', 'egalitarian', 'Spread the Love', 'reinforce', 'indrecip', 'popularity', 'Spread the Love is a reinforcing connection: as Indirect Reciprocity grows stronger, it tends to strengthen Popularity. Generosity that circulates makes people warmer toward each other and more widely liked.'),
  ('ECP-07', 'egalitarian', 'Here to Help', 'reinforce', 'indrecip', 'divsexp', 'Here to Help is a reinforcing connection: as Indirect Reciprocity grows stronger, it tends to strengthen Diverse Expression. When help flows freely, people feel safer trying ideas and admitting what they do not know.'),
  ('ECP-08', 'egalitarian', 'Watch and Learn', 'reinforce', 'indrecip', 'outresp', 'Watch and Learn is a reinforcing connection: as Indirect Reciprocity grows stronger, it tends to strengthen Outgoing Respect. Helping each other exposes members to each other''s skills, so they learn from peers and come to respect them.'),
  ('ECP-09', 'egalitarian', 'Knowing What''s Best', 'reinforce', 'popularity', 'grpprosp', 'Knowing What''s Best is a reinforcing connection: as Popularity grows stronger, it tends to strengthen Group Prospects. Well-liked members can rally the group behind a shared direction, strengthening its sense of common purpose.'),
  ('ECP-10', 'egalitarian', 'Spread Too Thin', 'inverse', 'popularity', 'indrecip', 'Spread Too Thin is an inverse connection: as Popularity grows stronger, it tends to weaken Indirect Reciprocity (and a weaker Popularity can strengthen it). Popular members are asked for so much that their capacity to help everyone is stretched, and help starts to flow along friendships rather than need.'),
  ('ECP-11', 'egalitarian', 'Making Fetch Happen', 'reinforce', 'popularity', 'divsexp', 'Making Fetch Happen is a reinforcing connection: as Popularity grows stronger, it tends to strengthen Diverse Expression. Liked members can make new ideas catch on, giving unusual views a hearing they would not otherwise get.'),
  ('ECP-12', 'egalitarian', 'Heavy Lies the Crown', 'inverse', 'popularity', 'outresp', 'Heavy Lies the Crown is an inverse connection: as Popularity grows stronger, it tends to weaken Outgoing Respect (and a weaker Popularity can strengthen it). The more influence a popular member holds, the more peers may defer or resent rather than engage as equals, eroding mutual respect.'),
  ('ECP-13', 'egalitarian', 'Font of Wisdom', 'reinforce', 'divsexp', 'grpprosp', 'Font of Wisdom is a reinforcing connection: as Diverse Expression grows stronger, it tends to strengthen Group Prospects. A group that hears many perspectives makes better plans and becomes more confident in its shared future.'),
  ('ECP-14', 'egalitarian', 'Growth Mindset', 'reinforce', 'divsexp', 'indrecip', 'Growth Mindset is a reinforcing connection: as Diverse Expression grows stronger, it tends to strengthen Indirect Reciprocity. People who learn openly from feedback are more willing to share what they know and to help others grow.'),
  ('ECP-15', 'egalitarian', null, 'discretionary', 'divsexp', 'popularity', 'From Diverse Expression to Popularity runs a discretionary connection: whether Diverse Expression strengthens or weakens Popularity depends on how the group chooses to act. Voicing dissent can make a member admired for courage or disliked as difficult; the group''s response decides which.'),
  ('ECP-16', 'egalitarian', 'Rise to the Occasion', 'reinforce', 'divsexp', 'outresp', 'Rise to the Occasion is a reinforcing connection: as Diverse Expression grows stronger, it tends to strengthen Outgoing Respect. When members are free to stretch and challenge, they show what they can do and earn the respect of their peers.'),
  ('ECP-17', 'egalitarian', 'Quality Street', 'reinforce', 'outresp', 'grpprosp', 'Quality Street is a reinforcing connection: as Outgoing Respect grows stronger, it tends to strengthen Group Prospects. Respect for each other''s work raises its quality, which strengthens belief in the group''s success.'),
  ('ECP-18', 'egalitarian', 'I''ll Just Do It Myself', 'reinforce', 'outresp', 'indrecip', 'I''ll Just Do It Myself is a reinforcing connection: as Outgoing Respect grows stronger, it tends to strengthen Indirect Reciprocity. Respecting peers'' competence can lead members to do things themselves rather than ask for or offer help, quietly reducing exchange.'),
  ('ECP-19', 'egalitarian', 'Don''t Dis Me Bro', 'reinforce', 'outresp', 'popularity', 'Don''t Dis Me Bro is a reinforcing connection: as Outgoing Respect grows stronger, it tends to strengthen Popularity. Members who feel respected return that regard with warmth, and slights to respect quickly cost goodwill.'),
  ('ECP-20', 'egalitarian', 'Compensatory Complacency', 'inverse', 'outresp', 'divsexp', 'Compensatory Complacency is an inverse connection: as Outgoing Respect grows stronger, it tends to weaken Diverse Expression (and a weaker Outgoing Respect can strengthen it). When everyone is assumed competent, the group may stop questioning work, and comfortable agreement replaces healthy challenge.'),
  ('HCP-01', 'hierarchical', null, 'discretionary', 'ownprosp', 'dirrecip', 'From Own Prospects to Direct Reciprocity runs a discretionary connection: whether Own Prospects strengthens or weakens Direct Reciprocity depends on how the group chooses to act. Ambition can lead people to build networks of exchange or to go it alone; which happens depends on how advancement is earned.'),
  ('HCP-02', 'hierarchical', 'Short Poppies', 'inverse', 'ownprosp', 'status', 'Short Poppies is an inverse connection: as Own Prospects grows stronger, it tends to weaken Status (and a weaker Own Prospects can strengthen it). Individuals who push their own prospects too visibly can be cut down by those with status, so personal ambition and rank pull against each other.'),
  ('HCP-03', 'hierarchical', 'I''ve Got it Covered', 'inverse', 'ownprosp', 'normexp', 'I''ve Got it Covered is an inverse connection: as Own Prospects grows stronger, it tends to weaken Normative Expression (and a weaker Own Prospects can strengthen it). People confident in their own path may ignore the group''s norms, loosening conformity.'),
  ('HCP-04', 'hierarchical', 'Winners are Grinners', 'reinforce', 'ownprosp', 'incresp', 'Winners are Grinners is a reinforcing connection: as Own Prospects grows stronger, it tends to strengthen Incoming Respect. Those who advance are seen as winners and attract regard, so success feeds respect.'),
  ('HCP-05', 'hierarchical', 'Strength to Your Arm', 'reinforce', 'dirrecip', 'ownprosp', 'Strength to Your Arm is a reinforcing connection: as Direct Reciprocity grows stronger, it tends to strengthen Own Prospects. Favours and alliances help their holders get ahead, strengthening their personal prospects.'),
  ('HCP-06', 'hierarchical', 'Pick and Stick', 'reinforce', 'dirrecip', 'status', 'Pick and Stick is a reinforcing connection: as Direct Reciprocity grows stronger, it tends to strengthen Status. Stable alliances entrench those at the top, tying status to who sticks with whom.'),
  ('HCP-07', 'hierarchical', 'Left in the Lurch', 'reinforce', 'dirrecip', 'normexp', 'Left in the Lurch is a reinforcing connection: as Direct Reciprocity grows stronger, it tends to strengthen Normative Expression. When help is conditional, those without something to trade are left unsupported, and that expectation becomes part of the norm.'),
  ('HCP-08', 'hierarchical', 'Tits on a Bull', 'reinforce', 'dirrecip', 'incresp', 'Tits on a Bull is a reinforcing connection: as Direct Reciprocity grows stronger, it tends to strengthen Incoming Respect. Exchange relationships make people look useful to those above them, even when their contribution is thin, inflating regard.'),
  ('HCP-09', 'hierarchical', 'Built-in Advantage', 'reinforce', 'status', 'ownprosp', 'Built-in Advantage is a reinforcing connection: as Status grows stronger, it tends to strengthen Own Prospects. Status brings advantages that make further advancement easier for those who already hold it.'),
  ('HCP-10', 'hierarchical', 'More to Lose, or Gain', 'inverse', 'status', 'dirrecip', 'More to Lose, or Gain is an inverse connection: as Status grows stronger, it tends to weaken Direct Reciprocity (and a weaker Status can strengthen it). The higher someone stands, the less they depend on trading favours, and the more a single exchange can cost or win them.'),
  ('HCP-11', 'hierarchical', 'Self Interest Quo', 'reinforce', 'status', 'normexp', 'Self Interest Quo is a reinforcing connection: as Status grows stronger, it tends to strengthen Normative Expression. Those with status tend to defend the norms that put them there, reinforcing conformity.'),
  ('HCP-12', 'hierarchical', 'All Praise the Boss', 'inverse', 'status', 'incresp', 'All Praise the Boss is an inverse connection: as Status grows stronger, it tends to weaken Incoming Respect (and a weaker Status can strengthen it). When praise flows upward to the boss, credit and regard for others shrink.'),
  ('HCP-13', 'hierarchical', 'Rewards of Conformity', 'reinforce', 'normexp', 'ownprosp', 'Rewards of Conformity is a reinforcing connection: as Normative Expression grows stronger, it tends to strengthen Own Prospects. Conforming to norms is rewarded with advancement, so norms shape careers.'),
  ('HCP-14', 'hierarchical', 'Predictability Preferred', 'reinforce', 'normexp', 'dirrecip', 'Predictability Preferred is a reinforcing connection: as Normative Expression grows stronger, it tends to strengthen Direct Reciprocity. Predictable norms make exchange safer, so favours and debts follow established patterns.'),
  ('HCP-15', 'hierarchical', null, 'discretionary', 'normexp', 'status', 'From Normative Expression to Status runs a discretionary connection: whether Normative Expression strengthens or weakens Status depends on how the group chooses to act. Norms can either protect the hierarchy or constrain those at the top; the group''s choices decide which.'),
  ('HCP-16', 'hierarchical', 'The Right Thing', 'reinforce', 'normexp', 'incresp', 'The Right Thing is a reinforcing connection: as Normative Expression grows stronger, it tends to strengthen Incoming Respect. Doing what the norms call right earns regard from those who uphold them.'),
  ('HCP-17', 'hierarchical', 'External Locus of Control', 'reinforce', 'incresp', 'ownprosp', 'External Locus of Control is a reinforcing connection: as Incoming Respect grows stronger, it tends to strengthen Own Prospects. When standing depends on others'' judgement, people steer their careers by what evaluators want.'),
  ('HCP-18', 'hierarchical', 'Sulking in a Corner', 'reinforce', 'incresp', 'dirrecip', 'Sulking in a Corner is a reinforcing connection: as Incoming Respect grows stronger, it tends to strengthen Direct Reciprocity. People who feel under-appreciated withdraw from exchange, reducing the favours they offer.'),
  ('HCP-19', 'hierarchical', 'Inferred Status', 'reinforce', 'incresp', 'status', 'Inferred Status is a reinforcing connection: as Incoming Respect grows stronger, it tends to strengthen Status. Being respected leads others to infer higher status, even without formal rank.'),
  ('HCP-20', 'hierarchical', 'Comfortable in my Own Skin', 'inverse', 'incresp', 'normexp', 'Comfortable in my Own Skin is an inverse connection: as Incoming Respect grows stronger, it tends to weaken Normative Expression (and a weaker Incoming Respect can strengthen it). People secure in the regard they receive feel less need to conform, loosening the pull of norms.');

create table public.knowledge_documents (
  id uuid primary key default gen_random_uuid(),
  title text not null check (char_length(title) between 1 and 300),
  source text,
  -- SHA-256 of the content: ingesting the same text twice is a no-op.
  content_hash text not null unique check (content_hash ~ '^[0-9a-f]{64}$'),
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now()
);

do $knowledge_chunks$
declare
  vector_schema text := (select e.extnamespace::regnamespace::text from pg_catalog.pg_extension e
                          where e.extname = 'vector');
begin
  execute format($sql$
    create table public.knowledge_chunks (
      id uuid primary key default gen_random_uuid(),
      document_id uuid not null references public.knowledge_documents (id) on delete cascade,
      chunk_index integer not null check (chunk_index >= 0),
      content text not null check (char_length(content) between 1 and 20000),
      -- pillar_id, mode, kind (pillar | force | connection | document), title, heading
      metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
      embedding %1$s.vector(1536),
      -- Which model made the vector; vectors from different models are never compared.
      embedding_model text,
      fts tsvector generated always as (to_tsvector('english', content)) stored,
      created_at timestamptz not null default now(),
      unique (document_id, chunk_index),
      check ((embedding is null) = (embedding_model is null))
    );
    create index knowledge_chunks_embedding_hnsw on public.knowledge_chunks
      using hnsw (embedding %1$s.vector_cosine_ops);
  $sql$, vector_schema);
end
$knowledge_chunks$;

create index knowledge_chunks_fts on public.knowledge_chunks using gin (fts);
create index knowledge_chunks_metadata on public.knowledge_chunks using gin (metadata jsonb_path_ops);

-- Knowledge and the framework are public to read (the anon key may browse them) and written
-- only by the service role: no insert/update/delete privilege or policy for anon/authenticated.
alter table public.pillars enable row level security;
alter table public.forces enable row level security;
alter table public.force_connections enable row level security;
alter table public.knowledge_documents enable row level security;
alter table public.knowledge_chunks enable row level security;

revoke all on public.pillars, public.forces, public.force_connections,
  public.knowledge_documents, public.knowledge_chunks from anon, authenticated;
grant select on public.pillars, public.forces, public.force_connections,
  public.knowledge_documents, public.knowledge_chunks to anon, authenticated;
grant all on public.pillars, public.forces, public.force_connections,
  public.knowledge_documents, public.knowledge_chunks to service_role;

-- Open reads on purpose: the framework and the knowledge base are public reference content.
create policy pillars_read on public.pillars for select to anon, authenticated using (true);
create policy forces_read on public.forces for select to anon, authenticated using (true);
create policy force_connections_read on public.force_connections for select to anon, authenticated using (true);
create policy knowledge_documents_read on public.knowledge_documents for select to anon, authenticated using (true);
create policy knowledge_chunks_read on public.knowledge_chunks for select to anon, authenticated using (true);

-- Hybrid search: cosine similarity (pgvector, HNSW) and full-text rank fused with reciprocal
-- rank fusion (k = 60). Full text matches any of the query's words, ranked by ts_rank_cd.
-- Vectors are compared only with vectors of query_model (when given), so
-- embeddings of different models never meet. The threshold applies to vector similarity: a
-- result with a comparable vector must reach it; a full-text hit without one (embedder down at
-- ingest, another model, no query vector) scores its normalized text rank r / (1 + r) instead.
-- match_count is clamped to 1..50 here, whatever the caller asks. Security invoker: it reads
-- through the caller's privileges and RLS.
-- Planner settings, scoped to the function: seqscan is discouraged because the planner prices a
-- 1536-dimension distance like any operator and picks exact scans long after the HNSW index is
-- ~10x faster (measured: 84 ms vs 6 ms at 10k chunks); ef_search 100 raised recall@10 from 0.96
-- to 1.00 there; iterative scans keep filtered searches from running out of candidates.
-- hnsw.iterative_scan needs pgvector 0.8 or later: older versions reserve the hnsw prefix and
-- refuse an unknown setting, so it is set only when the installed version has it.
-- This block only replaces the function, so it can run again (a test does, on an older version).
do $match_knowledge$
declare
  vector_schema text;
  iterative_scan boolean;
begin
  select e.extnamespace::regnamespace::text,
         pg_catalog.string_to_array(pg_catalog.split_part(e.extversion, '-', 1), '.')::int[] >= array[0, 8]
    into vector_schema, iterative_scan
    from pg_catalog.pg_extension e
   where e.extname = 'vector';
  execute format($sql$
create or replace function public.match_knowledge(
  query_embedding %1$s.vector(1536),
  query_text text,
  match_threshold double precision default 0.5,
  match_count integer default 10,
  filter_pillar text default null,
  filter_mode text default null,
  query_model text default null
) returns table (id uuid, content text, metadata jsonb, similarity double precision)
language sql
stable
security invoker
set search_path = ''
set enable_seqscan = off
set hnsw.ef_search = 100
%2$s
as $body$
  with settings as (
    select least(greatest(coalesce(match_count, 10), 1), 50) as k,
           least(greatest(coalesce(match_threshold, 0.5), 0), 1) as threshold,
           -- Any of the words (OR), ranked: a lexical fallback must not need every word to match.
           pg_catalog.replace(pg_catalog.plainto_tsquery('english', coalesce(query_text, ''))::text, ' & ', ' | ')::pg_catalog.tsquery as tsq
  ),
  vector_hits as (
    select c.id,
           row_number() over (order by c.embedding operator(%1$s.<=>) query_embedding) as rank
      from (
        select c.id, c.embedding
          from public.knowledge_chunks c
         where query_embedding is not null
           and c.embedding is not null
           and (query_model is null or c.embedding_model = query_model)
           and (filter_pillar is null or c.metadata operator(pg_catalog.@>) jsonb_build_object('pillar_id', filter_pillar))
           and (filter_mode is null or c.metadata operator(pg_catalog.@>) jsonb_build_object('mode', filter_mode))
         order by c.embedding operator(%1$s.<=>) query_embedding
         limit (select k * 4 from settings)
      ) c
  ),
  text_hits as (
    select c.id,
           ts_rank_cd(c.fts, s.tsq) as text_rank,
           row_number() over (order by ts_rank_cd(c.fts, s.tsq) desc, c.id) as rank
      from public.knowledge_chunks c, settings s
     where c.fts operator(pg_catalog.@@) s.tsq
       and (filter_pillar is null or c.metadata operator(pg_catalog.@>) jsonb_build_object('pillar_id', filter_pillar))
       and (filter_mode is null or c.metadata operator(pg_catalog.@>) jsonb_build_object('mode', filter_mode))
     order by text_rank desc, c.id
     limit (select k * 4 from settings)
  ),
  fused as (
    select coalesce(v.id, t.id) as id,
           coalesce(1.0 / (60 + v.rank), 0) + coalesce(1.0 / (60 + t.rank), 0) as score,
           coalesce(t.text_rank, 0) as text_rank
      from vector_hits v
      full outer join text_hits t on t.id = v.id
  ),
  scored as (
    select c.id, c.content, c.metadata, f.score,
           query_embedding is not null and c.embedding is not null
             and (query_model is null or c.embedding_model = query_model) as comparable,
           case when query_embedding is not null and c.embedding is not null
                     and (query_model is null or c.embedding_model = query_model)
                then 1 - (c.embedding operator(%1$s.<=>) query_embedding)
                else f.text_rank / (1 + f.text_rank) end as similarity
      from fused f
      join public.knowledge_chunks c on c.id = f.id
  )
  select s.id, s.content, s.metadata, s.similarity
    from scored s
   where not s.comparable or s.similarity >= (select threshold from settings)
   order by s.score desc, s.id
   limit (select k from settings)
$body$;

revoke execute on function public.match_knowledge(%1$s.vector, text, double precision, integer, text, text, text) from public;
grant execute on function public.match_knowledge(%1$s.vector, text, double precision, integer, text, text, text)
  to anon, authenticated, service_role;
  $sql$, vector_schema, case when iterative_scan then 'set hnsw.iterative_scan = relaxed_order' else '' end);
end
$match_knowledge$;
