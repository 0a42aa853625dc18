-- Assessments: a user rates statements about their group, one pillar at a time; answers are
-- written only through submit_assessment_answer, one atomic JSONB update that checks ownership.

-- The question bank: Likert statements (1 = strongly disagree … 5 = strongly agree), at least
-- two per force, written for this project from the PILAR framework facts. Ids are stable:
-- <pillar>.<force_key>.<n>. Answers and scores refer to them, so never renumber; add new ones.
create table public.assessment_questions (
  id text primary key check (id ~ '^[a-z]+\.[a-z0-9_]+\.[0-9]+$'),
  pillar_id text not null,
  mode text not null check (mode in ('egalitarian', 'hierarchical')),
  force_key text not null,
  force_name text not null,
  position integer not null,
  text text not null check (char_length(text) between 10 and 500),
  unique (pillar_id, position)
);

insert into public.assessment_questions (id, pillar_id, mode, force_key, force_name, position, text) values
  ('normexp.predictability_preferred.1', 'normexp', 'hierarchical', 'predictability_preferred', 'Predictability Preferred', 1, 'People here prefer doing things the established way over trying something new.'),
  ('normexp.predictability_preferred.2', 'normexp', 'hierarchical', 'predictability_preferred', 'Predictability Preferred', 2, 'Surprises in how work is done are unwelcome in this group.'),
  ('normexp.rewards_of_conformity.1', 'normexp', 'hierarchical', 'rewards_of_conformity', 'Rewards of Conformity', 3, 'Members who follow the group''s norms are the ones who get ahead.'),
  ('normexp.rewards_of_conformity.2', 'normexp', 'hierarchical', 'rewards_of_conformity', 'Rewards of Conformity', 4, 'Fitting in with expected behaviour is noticed and rewarded here.'),
  ('normexp.stability_preference.1', 'normexp', 'hierarchical', 'stability_preference', 'Stability Preference', 5, 'The group values keeping things steady over changing them, even when change might help.'),
  ('normexp.stability_preference.2', 'normexp', 'hierarchical', 'stability_preference', 'Stability Preference', 6, 'Proposals that disrupt existing routines meet strong resistance.'),
  ('normexp.norm_enforcement.1', 'normexp', 'hierarchical', 'norm_enforcement', 'Norm Enforcement', 7, 'Someone who breaks an unwritten rule here is quickly corrected.'),
  ('normexp.norm_enforcement.2', 'normexp', 'hierarchical', 'norm_enforcement', 'Norm Enforcement', 8, 'Members watch each other for departures from the accepted way of doing things.'),
  ('dirrecip.conditional_help.1', 'dirrecip', 'hierarchical', 'conditional_help', 'Conditional Help', 1, 'People here help others mainly when they expect help in return.'),
  ('dirrecip.conditional_help.2', 'dirrecip', 'hierarchical', 'conditional_help', 'Conditional Help', 2, 'Requests for help are weighed against what the other person has done for you.'),
  ('dirrecip.favor_trading.1', 'dirrecip', 'hierarchical', 'favor_trading', 'Favor Trading', 3, 'Getting things done in this group depends on trading favours.'),
  ('dirrecip.favor_trading.2', 'dirrecip', 'hierarchical', 'favor_trading', 'Favor Trading', 4, 'Members keep track of who owes them a favour.'),
  ('dirrecip.pick_and_stick.1', 'dirrecip', 'hierarchical', 'pick_and_stick', 'Pick and Stick', 5, 'People choose a few trusted partners and work mostly with them.'),
  ('dirrecip.pick_and_stick.2', 'dirrecip', 'hierarchical', 'pick_and_stick', 'Pick and Stick', 6, 'Once an alliance forms here, it tends to last and to exclude others.'),
  ('dirrecip.debt_leverage.1', 'dirrecip', 'hierarchical', 'debt_leverage', 'Debt Leverage', 7, 'Past favours are used to pressure people into agreeing.'),
  ('dirrecip.debt_leverage.2', 'dirrecip', 'hierarchical', 'debt_leverage', 'Debt Leverage', 8, 'Being in someone''s debt here limits what you feel free to say or do.'),
  ('status.formal_authority.1', 'status', 'hierarchical', 'formal_authority', 'Formal Authority', 1, 'Decisions here are made by whoever holds the relevant title or position.'),
  ('status.formal_authority.2', 'status', 'hierarchical', 'formal_authority', 'Formal Authority', 2, 'People defer to rank even when someone lower down knows more.'),
  ('status.command_capacity.1', 'status', 'hierarchical', 'command_capacity', 'Command Capacity', 3, 'Leaders in this group can direct others and expect to be obeyed.'),
  ('status.command_capacity.2', 'status', 'hierarchical', 'command_capacity', 'Command Capacity', 4, 'Instructions from the top are carried out without much discussion.'),
  ('status.built_in_advantage.1', 'status', 'hierarchical', 'built_in_advantage', 'Built-in Advantage', 5, 'Some members start with advantages, such as seniority or connections, that others cannot earn.'),
  ('status.built_in_advantage.2', 'status', 'hierarchical', 'built_in_advantage', 'Built-in Advantage', 6, 'Where someone sits in the hierarchy shapes how much their views count.'),
  ('status.control_of_resources.1', 'status', 'hierarchical', 'control_of_resources', 'Control of Resources', 7, 'Whoever controls budgets, tools or information holds real power here.'),
  ('status.control_of_resources.2', 'status', 'hierarchical', 'control_of_resources', 'Control of Resources', 8, 'Access to resources is decided by a small number of people.'),
  ('ownprosp.personal_advancement.1', 'ownprosp', 'hierarchical', 'personal_advancement', 'Personal Advancement', 1, 'Members mostly focus on what will advance their own careers.'),
  ('ownprosp.personal_advancement.2', 'ownprosp', 'hierarchical', 'personal_advancement', 'Personal Advancement', 2, 'People here take on work chiefly when it improves their personal standing.'),
  ('ownprosp.credit_attribution.1', 'ownprosp', 'hierarchical', 'credit_attribution', 'Credit Attribution', 3, 'Who gets credit for results is closely watched and sometimes contested.'),
  ('ownprosp.credit_attribution.2', 'ownprosp', 'hierarchical', 'credit_attribution', 'Credit Attribution', 4, 'People make sure their individual contributions are visible to those above them.'),
  ('ownprosp.self_serving_goals.1', 'ownprosp', 'hierarchical', 'self_serving_goals', 'Self-Serving Goals', 5, 'Individuals pursue their own goals even when these conflict with the group''s.'),
  ('ownprosp.self_serving_goals.2', 'ownprosp', 'hierarchical', 'self_serving_goals', 'Self-Serving Goals', 6, 'Members are tempted to put personal targets ahead of shared outcomes.'),
  ('ownprosp.incentive_alignment.1', 'ownprosp', 'hierarchical', 'incentive_alignment', 'Incentive Alignment', 7, 'Rewards here are tied to individual performance rather than group results.'),
  ('ownprosp.incentive_alignment.2', 'ownprosp', 'hierarchical', 'incentive_alignment', 'Incentive Alignment', 8, 'People behave the way the incentive system pays them to behave.'),
  ('incresp.perceived_competence.1', 'incresp', 'hierarchical', 'perceived_competence', 'Perceived Competence', 1, 'Members work hard to be seen as capable by those who evaluate them.'),
  ('incresp.perceived_competence.2', 'incresp', 'hierarchical', 'perceived_competence', 'Perceived Competence', 2, 'Looking competent matters here as much as being competent.'),
  ('incresp.reputation_management.1', 'incresp', 'hierarchical', 'reputation_management', 'Reputation Management', 3, 'People are careful about how each action will affect their reputation.'),
  ('incresp.reputation_management.2', 'incresp', 'hierarchical', 'reputation_management', 'Reputation Management', 4, 'Members avoid tasks that could make them look bad to superiors.'),
  ('incresp.external_locus_of_control.1', 'incresp', 'hierarchical', 'external_locus_of_control', 'External Locus of Control', 5, 'People feel their standing depends on judgements made by others above them.'),
  ('incresp.external_locus_of_control.2', 'incresp', 'hierarchical', 'external_locus_of_control', 'External Locus of Control', 6, 'Members wait for approval from above before acting on their own ideas.'),
  ('incresp.visibility_of_delivery.1', 'incresp', 'hierarchical', 'visibility_of_delivery', 'Visibility of Delivery', 7, 'Work that is visible to leadership gets more effort than work that is not.'),
  ('incresp.visibility_of_delivery.2', 'incresp', 'hierarchical', 'visibility_of_delivery', 'Visibility of Delivery', 8, 'People make sure their deliverables are seen by the right audience.'),
  ('divsexp.psychological_safety.1', 'divsexp', 'egalitarian', 'psychological_safety', 'Psychological Safety', 1, 'People in this group can admit a mistake without worrying that it will be held against them.'),
  ('divsexp.psychological_safety.2', 'divsexp', 'egalitarian', 'psychological_safety', 'Psychological Safety', 2, 'Raising an unpopular concern here feels safe rather than risky.'),
  ('divsexp.challenge_welcome.1', 'divsexp', 'egalitarian', 'challenge_welcome', 'Challenge Welcome', 3, 'When someone questions a plan, the group treats it as useful input rather than disloyalty.'),
  ('divsexp.challenge_welcome.2', 'divsexp', 'egalitarian', 'challenge_welcome', 'Challenge Welcome', 4, 'Members regularly invite others to poke holes in their ideas.'),
  ('divsexp.growth_mindset.1', 'divsexp', 'egalitarian', 'growth_mindset', 'Growth Mindset', 5, 'Setbacks are discussed as chances to learn rather than as proof that someone failed.'),
  ('divsexp.growth_mindset.2', 'divsexp', 'egalitarian', 'growth_mindset', 'Growth Mindset', 6, 'People here are encouraged to try skills they have not mastered yet.'),
  ('divsexp.constructive_dissent.1', 'divsexp', 'egalitarian', 'constructive_dissent', 'Constructive Dissent', 7, 'Disagreements in this group end with better decisions rather than damaged relationships.'),
  ('divsexp.constructive_dissent.2', 'divsexp', 'egalitarian', 'constructive_dissent', 'Constructive Dissent', 8, 'Someone who argues against the majority is heard out before the group decides.'),
  ('indrecip.unconditional_helping.1', 'indrecip', 'egalitarian', 'unconditional_helping', 'Unconditional Helping', 1, 'People help colleagues who ask, even when nothing is expected in return.'),
  ('indrecip.unconditional_helping.2', 'indrecip', 'egalitarian', 'unconditional_helping', 'Unconditional Helping', 2, 'Members offer support to others before being asked.'),
  ('indrecip.resource_fluidity.1', 'indrecip', 'egalitarian', 'resource_fluidity', 'Resource Fluidity', 3, 'Time, tools and information move easily to whoever in the group needs them most.'),
  ('indrecip.resource_fluidity.2', 'indrecip', 'egalitarian', 'resource_fluidity', 'Resource Fluidity', 4, 'Nobody here hoards resources to protect their own position.'),
  ('indrecip.pay_it_forward_culture.1', 'indrecip', 'egalitarian', 'pay_it_forward_culture', 'Pay-it-Forward Culture', 5, 'Help someone received here is usually passed on to a third person later.'),
  ('indrecip.pay_it_forward_culture.2', 'indrecip', 'egalitarian', 'pay_it_forward_culture', 'Pay-it-Forward Culture', 6, 'Newcomers are supported the way earlier members were once supported.'),
  ('indrecip.reciprocity_trust.1', 'indrecip', 'egalitarian', 'reciprocity_trust', 'Reciprocity Trust', 7, 'Members trust that generosity toward the group will come back to them in some form.'),
  ('indrecip.reciprocity_trust.2', 'indrecip', 'egalitarian', 'reciprocity_trust', 'Reciprocity Trust', 8, 'People do not keep score of who owes whom.'),
  ('popularity.warmth_acceptance.1', 'popularity', 'egalitarian', 'warmth_acceptance', 'Warmth & Acceptance', 1, 'New members quickly feel welcome and accepted here.'),
  ('popularity.warmth_acceptance.2', 'popularity', 'egalitarian', 'warmth_acceptance', 'Warmth & Acceptance', 2, 'People in this group are treated kindly regardless of their rank or output.'),
  ('popularity.informal_influence.1', 'popularity', 'egalitarian', 'informal_influence', 'Informal Influence', 3, 'Well-liked members can shift the group''s direction without any formal authority.'),
  ('popularity.informal_influence.2', 'popularity', 'egalitarian', 'informal_influence', 'Informal Influence', 4, 'Decisions here are shaped by who people like and listen to, not only by who is in charge.'),
  ('popularity.social_support.1', 'popularity', 'egalitarian', 'social_support', 'Social Support', 5, 'When someone is struggling, others in the group notice and step in.'),
  ('popularity.social_support.2', 'popularity', 'egalitarian', 'social_support', 'Social Support', 6, 'Members can count on each other for encouragement during stressful periods.'),
  ('popularity.belonging_signals.1', 'popularity', 'egalitarian', 'belonging_signals', 'Belonging Signals', 7, 'Shared rituals, jokes or habits make members feel part of something.'),
  ('popularity.belonging_signals.2', 'popularity', 'egalitarian', 'belonging_signals', 'Belonging Signals', 8, 'People here show in small ways that they value each other''s company.'),
  ('grpprosp.collective_goal_clarity.1', 'grpprosp', 'egalitarian', 'collective_goal_clarity', 'Collective Goal Clarity', 1, 'Everyone in the group could describe the shared goal in roughly the same words.'),
  ('grpprosp.collective_goal_clarity.2', 'grpprosp', 'egalitarian', 'collective_goal_clarity', 'Collective Goal Clarity', 2, 'It is clear how each person''s work contributes to what the group is trying to achieve.'),
  ('grpprosp.team_success_belief.1', 'grpprosp', 'egalitarian', 'team_success_belief', 'Team Success Belief', 3, 'Members are confident the group will succeed if it keeps working together.'),
  ('grpprosp.team_success_belief.2', 'grpprosp', 'egalitarian', 'team_success_belief', 'Team Success Belief', 4, 'People here believe the team is stronger than any one individual in it.'),
  ('grpprosp.shared_future_vision.1', 'grpprosp', 'egalitarian', 'shared_future_vision', 'Shared Future Vision', 5, 'The group has a picture of its future that members find worth working toward.'),
  ('grpprosp.shared_future_vision.2', 'grpprosp', 'egalitarian', 'shared_future_vision', 'Shared Future Vision', 6, 'People talk about where the group is heading, not just about today''s tasks.'),
  ('grpprosp.joint_accountability.1', 'grpprosp', 'egalitarian', 'joint_accountability', 'Joint Accountability', 7, 'When the group misses a target, members share responsibility instead of blaming one person.'),
  ('grpprosp.joint_accountability.2', 'grpprosp', 'egalitarian', 'joint_accountability', 'Joint Accountability', 8, 'Successes here are credited to the group as a whole.'),
  ('outresp.peer_competence.1', 'outresp', 'egalitarian', 'peer_competence', 'Peer Competence', 1, 'Members respect the skills of their peers and rely on them.'),
  ('outresp.peer_competence.2', 'outresp', 'egalitarian', 'peer_competence', 'Peer Competence', 2, 'People here assume their colleagues know what they are doing.'),
  ('outresp.trust_in_intentions.1', 'outresp', 'egalitarian', 'trust_in_intentions', 'Trust in Intentions', 3, 'Members assume that others act in good faith, even when plans go wrong.'),
  ('outresp.trust_in_intentions.2', 'outresp', 'egalitarian', 'trust_in_intentions', 'Trust in Intentions', 4, 'People here rarely suspect hidden agendas behind a colleague''s actions.'),
  ('outresp.quality_street.1', 'outresp', 'egalitarian', 'quality_street', 'Quality Street', 5, 'Members hold each other''s work to a high standard because they respect it.'),
  ('outresp.quality_street.2', 'outresp', 'egalitarian', 'quality_street', 'Quality Street', 6, 'People take care over work that others in the group will build on.'),
  ('outresp.delegation_confidence.1', 'outresp', 'egalitarian', 'delegation_confidence', 'Delegation Confidence', 7, 'Members hand over important tasks to peers without checking on every step.'),
  ('outresp.delegation_confidence.2', 'outresp', 'egalitarian', 'delegation_confidence', 'Delegation Confidence', 8, 'People are comfortable letting others decide how a delegated job gets done.');

alter table public.assessment_questions enable row level security;
revoke all on public.assessment_questions from anon, authenticated;
grant select on public.assessment_questions to authenticated;
grant all on public.assessment_questions to service_role;
-- Reference data, the same for every signed-in user.
create policy assessment_questions_read on public.assessment_questions
  for select to authenticated
  using (true);

create table public.assessment_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  pillar_id text not null,
  mode text not null check (mode in ('egalitarian', 'hierarchical')),
  status text not null default 'in_progress' check (status in ('in_progress', 'completed')),
  responses jsonb not null default '{}'::jsonb check (jsonb_typeof(responses) = 'object'),
  results jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  -- A pillar belongs to exactly one mode.
  constraint assessment_sessions_pillar_in_mode check (
    (mode = 'egalitarian' and pillar_id in ('divsexp', 'indrecip', 'popularity', 'grpprosp', 'outresp'))
    or (mode = 'hierarchical' and pillar_id in ('normexp', 'dirrecip', 'status', 'ownprosp', 'incresp'))
  ),
  constraint assessment_sessions_completion check (
    (status = 'completed') = (completed_at is not null and results is not null)
  )
);

-- The owner's newest-first listing (keyset pagination on created_at, id).
create index assessment_sessions_owner_newest on public.assessment_sessions (user_id, created_at desc, id desc);

create trigger assessment_sessions_touch_updated_at
  before update on public.assessment_sessions
  for each row execute function public.touch_updated_at();

alter table public.assessment_sessions enable row level security;

-- Users (directly through PostgREST too) may read, create and delete their own assessments, and
-- nothing else: no UPDATE privilege at all, so responses change only through the function
-- below and results only through the server, which scores them.
revoke all on public.assessment_sessions from anon, authenticated;
grant select, delete on public.assessment_sessions to authenticated;
grant insert (user_id, pillar_id, mode) on public.assessment_sessions to authenticated;
grant all on public.assessment_sessions to service_role;

create policy assessment_sessions_select_own on public.assessment_sessions
  for select to authenticated
  using (user_id = (select auth.uid()));
create policy assessment_sessions_insert_own on public.assessment_sessions
  for insert to authenticated
  with check (user_id = (select auth.uid()));
-- Only reachable if a later migration grants UPDATE; even then, own and unfinished rows only.
create policy assessment_sessions_update_own on public.assessment_sessions
  for update to authenticated
  using (user_id = (select auth.uid()) and status = 'in_progress')
  with check (user_id = (select auth.uid()));
create policy assessment_sessions_delete_own on public.assessment_sessions
  for delete to authenticated
  using (user_id = (select auth.uid()));

-- Records one answer atomically: a single UPDATE merges it into responses with ||, so
-- concurrent answers never overwrite each other (no read-modify-write anywhere). It runs as its
-- owner because users hold no UPDATE privilege; it therefore trusts nothing it is given:
-- the caller is auth.uid(), the row must be theirs and in progress, the question must belong
-- to the row's pillar, and the answer must be 1..5. Outcomes are distinct SQLSTATEs
-- (PostgREST maps PTxyz to HTTP xyz):
--   PT404 not found or not yours (one outcome, so existence never leaks)
--   PT409 already completed
--   PT400 unknown question for this pillar, or answer out of range
create or replace function public.submit_assessment_answer(
  p_assessment_id uuid,
  p_question_id text,
  p_answer integer
) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_count integer;
  v_status text;
begin
  if v_user is null then
    raise exception 'not authenticated' using errcode = '42501';
  end if;
  if p_answer is null or p_answer < 1 or p_answer > 5 then
    raise exception 'answer must be an integer from 1 to 5' using errcode = 'PT400';
  end if;

  update public.assessment_sessions s
     set responses = s.responses || jsonb_build_object(
           p_question_id, jsonb_build_object('answer', p_answer, 'answered_at', now())
         )
   where s.id = p_assessment_id
     and s.user_id = v_user
     and s.status = 'in_progress'
     and exists (
       select 1 from public.assessment_questions q
        where q.id = p_question_id and q.pillar_id = s.pillar_id
     )
  returning (select count(*) from jsonb_object_keys(s.responses))::integer into v_count;

  if found then
    return v_count;
  end if;

  -- Nothing changed: say why, with the same ownership filter so other users' rows stay invisible.
  select s.status into v_status
    from public.assessment_sessions s
   where s.id = p_assessment_id and s.user_id = v_user;
  if not found then
    raise exception 'assessment not found' using errcode = 'PT404';
  elsif v_status <> 'in_progress' then
    raise exception 'assessment is already completed' using errcode = 'PT409';
  end if;
  raise exception 'unknown question for this pillar' using errcode = 'PT400';
end
$$;

revoke execute on function public.submit_assessment_answer(uuid, text, integer) from public, anon;
grant execute on function public.submit_assessment_answer(uuid, text, integer) to authenticated;
