import { registerArchiveContent } from '@/routes/content/archive'
import { registerCreateContent } from '@/routes/content/create'
import { registerDeleteContent } from '@/routes/content/delete'
import { registerGetContent } from '@/routes/content/get'
import { registerListContent } from '@/routes/content/list'
import { registerPublishContent } from '@/routes/content/publish'
import { registerUpdateContent } from '@/routes/content/update'
import type { Router } from '@/routes/router'
import { createRouter } from '@/routes/router'

// Every path below /content is a parameter (`{slug}`, `{id}`, `{id}/publish`): a static segment
// beside them (say /content/search) would drop the app off the RegExpRouter (operations.test.ts).
const register: ((router: Router) => unknown)[] = [
  registerListContent,
  registerGetContent,
  registerCreateContent,
  registerUpdateContent,
  registerPublishContent,
  registerArchiveContent,
  registerDeleteContent,
]

/** Articles, pages and resources: public reads with caching, admin writes. */
export const contentRoutes = createRouter()
for (const add of register) add(contentRoutes)
