/** An FCM HTTP v1 `Message` (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages). */
export type PushMessage = Record<string, unknown>;

/**
 * The port every push goes through (device sign-in codes, the push relay); implemented by the FCM
 * HTTP v1 client in google/ and by local mode's recording fake. Failures are PushFailedError.
 */
export interface PushSender {
  /** Sends one message; resolves to FCM's name for it (projects/<p>/messages/<id>). */
  send(message: PushMessage, options?: { validateOnly?: boolean }): Promise<{ name: string }>;
}
