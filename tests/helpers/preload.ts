import { rerunInParallel } from '@tests/helpers/parallel-run'

// A plain `bun test` becomes `bun run test` here (see parallel-run.ts); the rest is loaded only
// by the run that stays, so the re-running process does not import the app first.
await rerunInParallel()
const { testApp } = await import('@tests/helpers/app')
const { abandonSharedBuild, keepSeededSnapshot, sharedDatabase } = await import('@tests/helpers/db')

// `bun test` preloads this once per run (bunfig.toml). Every file shares one in-memory PGlite,
// and whichever test first touched it paid its cold start — seconds on a busy machine — inside
// its own 5 s timeout: the flaky first test of whichever file ran first. Warmed here, no test
// pays for it. The first container over the database also seeds the knowledge base and the
// content pages, so one is built and closed too (closing leaves the shared database open) —
// after the work a real server does in its first seconds (start-up indexing of the seed pages,
// planner statistics): servers started from the snapshot below then do not each index the pages
// again (their work after "listening" measured 1.35 → 0.75 CPU-s for one that lives past 3 s);
// the statistics they still take, as every restart does. first-start.test.ts sees a real start
// index them.
try {
  await sharedDatabase()
  const warm = await testApp()
  await warm.services.content.indexMissing(10)
  await warm.services.housekeeping.runJob('planner statistics')
  await warm.services.close()
  // Before any test writes: what real servers' data directories are made from (data-dir.ts),
  // and what the other workers of a --parallel run load instead of building their own.
  await keepSeededSnapshot()
} catch (error) {
  abandonSharedBuild()
  throw error
}
