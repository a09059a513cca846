/**
 * What the admin console and the keys screen read from the native face. The routes return raw
 * responses (no response schemas in /openapi.json), so these follow src/switchboard/faces/native/
 * mapping.py (admin_user_out, key_out, admin_key_out, provider_status_out, mcp_status_out, usage_out)
 * and routes_profiles.profile_out; request bodies come from the generated openapi.d.ts.
 */
import type { components } from '../openapi';
import type { UserOut, UsageTotals } from '../types';

type Schemas = components['schemas'];

export type KeyBody = Schemas['KeyBody'];
export type KeyPatchBody = Partial<Schemas['KeyPatchBody']>;
export type UserCreateBody = Schemas['UserCreateBody'];
export type UserPatchBody = Partial<Schemas['UserPatchBody']>;
export type McpServerBody = Partial<Schemas['switchboard__faces__native__schemas__McpServerBody']>;
export type ProfileBody = Partial<Schemas['ProfileBody']>;

export interface AdminUser extends UserOut {
  token_allowance: number | null;
  unlimited: boolean;
  tokens_used: number;
  tokens_reserved: number;
  tokens_remaining: number | null;
  tools: string[] | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  allowed_models: string[];
  rpm_limit: number | null;
  tpm_limit: number | null;
  token_quota: number | null;
  tokens_used: number;
  tokens_left: number | null;
  /** The secret: present once, in the answer to POST /api/keys. */
  key?: string;
  /** GET /api/admin/keys only: the owner. */
  user_id?: number;
  username?: string;
}

export interface ProviderStatus {
  name: string;
  base_url: string;
  models: string[];
  healthy: boolean;
  cooling_down_until: string | null;
  last_error: string | null;
}

export type McpState = 'connected' | 'connecting' | 'error' | 'disabled';

export interface McpConfig {
  command?: string | null;
  args?: string[];
  env?: Record<string, string>;
  url?: string | null;
  headers?: Record<string, string>;
  transport?: 'stdio' | 'http' | 'sse' | null;
  description?: string;
  disabled?: boolean;
}

export interface McpStatus {
  name: string;
  transport: 'stdio' | 'http' | 'sse';
  state: McpState;
  error: string | null;
  tool_count: number;
  config: McpConfig;
  tools: string[];
}

export interface ToolInfo {
  name: string;
  description: string;
  source: string;
}

export interface Profile {
  id: string;
  name: string;
  model: string | null;
  system_prompt: string | null;
  temperature: number | null;
  tools_enabled: boolean | null;
  allowed_tools: string[] | null;
  is_default: boolean;
  created_at: string;
  updated_at: string;
}

export type SettingValue = string | number | boolean | null;
export type Settings = Record<string, SettingValue>;

export type UsageBy = 'day' | 'model' | 'user' | 'key';

export interface UsageRow extends UsageTotals {
  day?: string;
  model?: string;
  user?: number;
  key_id?: string | null;
  name?: string | null;
}

export interface AdminUsage {
  since: string;
  by: UsageBy;
  rows: UsageRow[];
  total: UsageTotals;
}
