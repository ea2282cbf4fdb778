export { InvitationStore } from './invitation-store.ts';
export { invitationLink, invitationRoutes } from './routes.ts';
