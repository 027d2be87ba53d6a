// Placeholder: replaced by the scheduled probe handler.
export const handler = async (): Promise<{ ok: boolean }> => ({ ok: true });
