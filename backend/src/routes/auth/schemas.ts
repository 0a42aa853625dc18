/** What every auth route shares (spread into `createRoute`); each adds whose token it admits. */
export const authRoute = {
  tags: ['Auth'],
  security: [{ bearer: [] }],
}
