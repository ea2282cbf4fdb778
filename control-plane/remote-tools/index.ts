export { ApiParticipant, type ChannelHandler } from './api-participant.ts';
export { ChannelFailure, channelApiError, isChannelFailure } from './channel-failure.ts';
export { channelRoutes, isFileUpload } from './channel-routes.ts';
export { ApiParticipants, type Lease, participantsOf } from './participants.ts';
