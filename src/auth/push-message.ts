import { InvalidRequestError } from '../errors';
import type { PushMessage } from './push-sender';

/**
 * The shape of an FCM HTTP v1 `Message` (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages),
 * checked before it is sent so a caller gets a clear 400 naming the bad field instead of FCM's
 * INVALID_ARGUMENT. Only the shape: exactly one target, the types of notification / data / android /
 * apns / webpush / fcm_options, string values in every data map. What passes is sent unchanged.
 * Field names are accepted in both spellings proto3 JSON allows (fcm_options and fcmOptions).
 */

type Json = Record<string, unknown>;

const TARGETS = ['token', 'topic', 'condition'] as const;
const MESSAGE_FIELDS = new Set(['name', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'fcmOptions', ...TARGETS]);
/** Longest device token accepted (FCM's are about 160 characters; APNs-derived ones a little longer). */
const MAX_TOKEN_LENGTH = 4096;
/** A topic name, optionally with the /topics/ prefix (FCM's own pattern). */
const TOPIC = /^(?:\/topics\/)?[a-zA-Z0-9\-_.~%]{1,900}$/;
const MAX_CONDITION_LENGTH = 1024;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(field: string, problem: string): never {
  throw new InvalidRequestError(`"${field}" ${problem}`);
}

function object(parent: Json, key: string, field: string): Json | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(field, 'must be an object');
  return value;
}

function string(parent: Json, key: string, field: string): void {
  const value = parent[key];
  if (value !== undefined && typeof value !== 'string') fail(field, 'must be a string');
}

/** A map<string, string> (data, apns.headers, webpush.headers): every value a string. */
function stringMap(parent: Json, key: string, field: string): void {
  const map = object(parent, key, field);
  if (!map) return;
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') fail(`${field}.${name}`, 'must be a string (FCM data values are strings)');
  }
}

function strings(parent: Json, keys: readonly string[], prefix: string): void {
  for (const key of keys) string(parent, key, `${prefix}.${key}`);
}

function fcmOptions(parent: Json, prefix: string): void {
  for (const key of ['fcm_options', 'fcmOptions']) {
    const options = object(parent, key, `${prefix}.${key}`);
    if (options) strings(options, ['analytics_label', 'analyticsLabel', 'image', 'link'], `${prefix}.${key}`);
  }
}

function notification(parent: Json, prefix: string): void {
  const n = object(parent, 'notification', `${prefix}.notification`);
  if (n) strings(n, ['title', 'body', 'image'], `${prefix}.notification`);
}

function android(message: Json): void {
  const a = object(message, 'android', 'message.android');
  if (!a) return;
  strings(a, ['collapse_key', 'collapseKey', 'ttl', 'restricted_package_name', 'restrictedPackageName'], 'message.android');
  if (a.priority !== undefined && a.priority !== 'normal' && a.priority !== 'high' && a.priority !== 'NORMAL' && a.priority !== 'HIGH') {
    fail('message.android.priority', 'must be "normal" or "high"');
  }
  if (typeof a.ttl === 'string' && !/^\d+(?:\.\d{1,9})?s$/.test(a.ttl)) fail('message.android.ttl', 'must be a duration in seconds, e.g. "3600s"');
  stringMap(a, 'data', 'message.android.data');
  const n = object(a, 'notification', 'message.android.notification');
  if (n) strings(n, ['title', 'body', 'icon', 'color', 'sound', 'tag', 'click_action', 'clickAction', 'channel_id', 'channelId', 'image'], 'message.android.notification');
  fcmOptions(a, 'message.android');
}

function apns(message: Json): void {
  const a = object(message, 'apns', 'message.apns');
  if (!a) return;
  stringMap(a, 'headers', 'message.apns.headers');
  object(a, 'payload', 'message.apns.payload');
  fcmOptions(a, 'message.apns');
}

function webpush(message: Json): void {
  const w = object(message, 'webpush', 'message.webpush');
  if (!w) return;
  stringMap(w, 'headers', 'message.webpush.headers');
  stringMap(w, 'data', 'message.webpush.data');
  object(w, 'notification', 'message.webpush.notification');
  fcmOptions(w, 'message.webpush');
}

/** The message, checked; throws InvalidRequestError naming the first bad field (`message.<path>`). */
export function validatePushMessage(value: unknown): PushMessage {
  if (!isObject(value)) fail('message', 'must be an FCM v1 Message object');
  for (const key of Object.keys(value)) {
    if (!MESSAGE_FIELDS.has(key)) fail(`message.${key}`, 'is not a field of an FCM v1 Message');
  }
  const targets = TARGETS.filter((t) => value[t] !== undefined);
  if (targets.length !== 1) {
    fail('message', `must have exactly one of "token", "topic", "condition" (found ${targets.length === 0 ? 'none' : targets.join(', ')})`);
  }
  const target = targets[0] as (typeof TARGETS)[number];
  const address = value[target];
  if (typeof address !== 'string' || address === '') fail(`message.${target}`, 'must be a non-empty string');
  if (target === 'token' && (address.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(address))) {
    fail('message.token', `must be printable ASCII of at most ${MAX_TOKEN_LENGTH} characters`);
  }
  if (target === 'topic' && !TOPIC.test(address)) fail('message.topic', 'must match [a-zA-Z0-9-_.~%]+ (optionally after /topics/)');
  if (target === 'condition' && address.length > MAX_CONDITION_LENGTH) fail('message.condition', `must be at most ${MAX_CONDITION_LENGTH} characters`);
  string(value, 'name', 'message.name');
  stringMap(value, 'data', 'message.data');
  notification(value, 'message');
  android(value);
  apns(value);
  webpush(value);
  fcmOptions(value, 'message');
  return value;
}
