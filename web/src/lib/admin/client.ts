/**
 * The endpoints of the keys screen and the admin console, typed, on top of the one API client
 * (`Api.request`: bearer header, envelope -> data or ApiError). The server checks every role; this
 * file only names paths and shapes.
 */
import type { Api } from '../api';
import type { Page } from '../types';
import type {
  AdminUsage,
  AdminUser,
  ApiKey,
  KeyBody,
  KeyPatchBody,
  McpServerBody,
  McpStatus,
  Profile,
  ProfileBody,
  ProviderStatus,
  Settings,
  ToolInfo,
  UsageBy,
  UserCreateBody,
  UserPatchBody,
} from './types';

const id = encodeURIComponent;

export class AdminApi {
  constructor(private readonly api: Api) {}

  // ---- API keys: your own (any signed-in user), everyone's (admin) ----
  myKeys = () => this.api.request<ApiKey[]>('GET', '/api/keys');
  everyonesKeys = () => this.api.request<ApiKey[]>('GET', '/api/admin/keys');
  createKey = (body: KeyBody) => this.api.request<ApiKey>('POST', '/api/keys', { json: body });
  changeKey = (keyId: string, body: KeyPatchBody) =>
    this.api.request<ApiKey>('PATCH', `/api/keys/${id(keyId)}`, { json: body });
  revokeKey = (keyId: string) => this.api.request<ApiKey>('DELETE', `/api/keys/${id(keyId)}`);
  modelIds = async () => (await this.api.models()).map((model) => model.id);

  // ---- users ----
  users = (query: { page: number; page_size: number; q?: string }) =>
    this.api.request<Page<AdminUser>>('GET', '/api/admin/users', { query });
  user = (userId: number) => this.api.request<AdminUser>('GET', `/api/admin/users/${userId}`);
  createUser = (body: UserCreateBody) => this.api.request<AdminUser>('POST', '/api/admin/users', { json: body });
  changeUser = (userId: number, body: UserPatchBody) =>
    this.api.request<AdminUser>('PATCH', `/api/admin/users/${userId}`, { json: body });

  // ---- usage ----
  usage = (by: UsageBy, days: number, userId?: number) =>
    this.api.request<AdminUsage>('GET', '/api/admin/usage', { query: { by, days, user_id: userId } });

  // ---- models and providers ----
  providers = () => this.api.request<ProviderStatus[]>('GET', '/api/admin/providers');

  // ---- MCP servers ----
  mcpServers = () => this.api.request<McpStatus[]>('GET', '/api/admin/mcp');
  saveMcpServer = (name: string, body: McpServerBody) =>
    this.api.request<McpStatus>('PUT', `/api/admin/mcp/${id(name)}`, { json: body });
  setMcpDisabled = (name: string, disabled: boolean) =>
    this.api.request<McpStatus>('POST', `/api/admin/mcp/${id(name)}/${disabled ? 'disable' : 'enable'}`);
  deleteMcpServer = (name: string) => this.api.request<void>('DELETE', `/api/admin/mcp/${id(name)}`);
  reconnectMcpServers = () => this.api.request<McpStatus[]>('POST', '/api/admin/mcp/reconnect');
  mcpTools = async () =>
    (await this.api.request<{ tools: ToolInfo[] }>('GET', '/api/tools', { query: { category: 'mcp' } })).tools;

  // ---- chat profiles ----
  profiles = () => this.api.request<Profile[]>('GET', '/api/admin/profiles');
  createProfile = (body: ProfileBody) => this.api.request<Profile>('POST', '/api/admin/profiles', { json: body });
  updateProfile = (profileId: string, body: ProfileBody) =>
    this.api.request<Profile>('PUT', `/api/admin/profiles/${id(profileId)}`, { json: body });
  deleteProfile = (profileId: string) => this.api.request<void>('DELETE', `/api/admin/profiles/${id(profileId)}`);

  // ---- runtime settings ----
  settings = () => this.api.request<Settings>('GET', '/api/admin/settings');
  changeSettings = (values: Settings) => this.api.request<Settings>('PUT', '/api/admin/settings', { json: values });
}
