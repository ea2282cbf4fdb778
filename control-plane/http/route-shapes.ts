import { createRoute, type RouteConfig, type z } from '@hono/zod-openapi';
import { authenticated, idParam, json, page, problems } from './openapi.ts';
import { pageQuery } from './paging.ts';

/** What a route of one of the common shapes says about itself in the OpenAPI document. */
export interface RouteShape<P extends string, T extends z.ZodType> {
  path: P;
  tag: string;
  summary: string;
  /** The schema of what it answers with (of each item, for a list). */
  item: T;
  /** The description of its 200 response. */
  description: string;
}

/** `GET <path>` for a console login or an API token, with `request` and `responses` as given. */
function authenticatedGet<
  P extends string,
  R extends NonNullable<RouteConfig['request']>,
  S extends RouteConfig['responses'],
>(shape: RouteShape<P, z.ZodType>, request: R, responses: S) {
  return createRoute({
    method: 'get',
    path: shape.path,
    tags: [shape.tag],
    summary: shape.summary,
    security: authenticated,
    request,
    responses,
  });
}

/**
 * `GET <path>` answering one page of `item`s (`?cursor=&limit=`, as every list pages), open to a
 * console login and an API token.
 * @example
 * list: listRoute({ path: '/groups', tag: 'groups', summary: 'List device groups', item: deviceGroupSchema, description: 'Groups' }),
 */
export function listRoute<P extends string, T extends z.ZodType>(shape: RouteShape<P, T>) {
  return authenticatedGet(
    shape,
    { query: pageQuery },
    { 200: json(page(shape.item), shape.description), ...problems(400, 401, 403) },
  );
}

/** `GET <path>` with an `{id}` in it, answering the one `item` it names, or 404. */
export function getRoute<P extends string, T extends z.ZodType>(shape: RouteShape<P, T>) {
  return authenticatedGet(
    shape,
    { params: idParam },
    { 200: json(shape.item, shape.description), ...problems(401, 403, 404) },
  );
}
