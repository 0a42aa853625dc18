-- updated_at is a version: content's ETag and its knowledge-base document version are built from
-- it, so two edits must never share one. now() alone does not promise that: it is the start of
-- the transaction, and the embedded database's clock ticks in whole milliseconds (two edits a
-- millisecond apart got the same ETag, and the hourly re-index missed the second one). An update
-- now moves updated_at forward by at least a microsecond, whatever the clock says.
create or replace function public.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.updated_at is not null then
    new.updated_at := greatest(now(), old.updated_at + interval '1 microsecond');
  else
    new.updated_at := now();
  end if;
  return new;
end
$$;

revoke execute on function public.touch_updated_at() from public, anon, authenticated;
