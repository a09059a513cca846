"""Use cases, one package per use case. Ports arrive through __init__; nothing here knows a concrete
adapter. Faces and platforms receive them all as one `Services` bundle (bundle).

    accounts       who is calling: auth, API keys, identities, principal cache, role guards
    quotas         token allowances and the gateway's leases
    media          stored files and generated media
    tools          the tool-call loop and the tools/MCP API
    conversations  conversations, profiles, shares, records, proactive messages
    gateway        the OpenAI-compatible relay
    chat           the stored chat turn
    admin          user administration, live settings, models
    commands       slash commands, media commands, multi-agent tasks
"""
