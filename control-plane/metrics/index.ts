export { Counter, EXPOSITION_CONTENT_TYPE, Histogram, renderMetrics } from './exposition.ts';
export { METRICS_PATH, metricsRoute, timeRequests } from './routes.ts';
export { ServiceMetrics } from './service-metrics.ts';
