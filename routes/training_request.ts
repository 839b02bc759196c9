/**
 * The training request contract as the routes see it: the zod schema (validation and the
 * OpenAPI document) and the resolver into a complete job, both from lib/train/request.ts.
 */
export { resolveTrainingRequest, TrainingRequestSchema } from "../lib/train/request.ts";
