import { registerDeleteConversation } from '@/routes/conversations/delete'
import { registerListConversations } from '@/routes/conversations/list'
import { registerListConversationMessages } from '@/routes/conversations/messages'
import { createRouter } from '@/routes/router'

export const conversationRoutes = createRouter()
// Registration order is route-matching order: keep it.
registerListConversations(conversationRoutes)
registerListConversationMessages(conversationRoutes)
registerDeleteConversation(conversationRoutes)
