// Placeholder: replaced by the notifier fed by the probe log's subscription filter.
export const handler = async (): Promise<{ ok: boolean }> => ({ ok: true });
