import { testApp } from '@tests/helpers/app'
import { keepSeededSnapshot, sharedDatabase } from '@tests/helpers/db'

// `bun test` preloads this once per run (bunfig.toml). Every file shares one in-memory PGlite,
// and whichever test first touched it paid its cold start — seconds on a busy machine — inside
// its own 5 s timeout: the flaky first test of whichever file ran first. Warmed here, no test
// pays for it. The first container over the database also seeds the knowledge base and the
// content pages, so one is built and closed too (closing leaves the shared database open) —
// after the work a real server does in its first seconds (start-up indexing of the seed pages,
// planner statistics): servers started from the snapshot below then do not each redo it
// (≈ 1 CPU-s apiece, two dozen servers a run). first-start.test.ts still sees a real start do it.
await sharedDatabase()
const warm = await testApp()
await warm.services.content.indexMissing(10)
await warm.services.housekeeping.runJob('planner statistics')
await warm.services.close()
// Before any test writes: what real servers' data directories are made from (data-dir.ts).
await keepSeededSnapshot()
