export { DeviceHub } from './device-hub.ts';
export { DeviceIdentity } from './device-identity.ts';
export { DeviceStore } from './device-store.ts';
export { enrolRoutes } from './enrol-routes.ts';
export { deviceRoutes } from './routes.ts';
export { sendOrder } from './send-order.ts';
export { deviceHubRoute } from './ws-route.ts';
