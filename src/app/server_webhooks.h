// The webhooks of `trainyard server` (docs/webhooks.md): the download-link key in the data dir
// and the dispatcher thread, built from the webhook_* settings.
#pragma once

#include <memory>
#include <string>

#include "app/server_options.h"
#include "control/download_links.h"
#include "metadata/metadata_store.h"
#include "notify/webhook_dispatcher.h"

namespace trainyard::app {

struct ServerWebhooks {
  std::shared_ptr<const control::DownloadLinkSigner> link_signer;
  std::unique_ptr<notify::WebhookDispatcher> dispatcher;  // started
};

// Loads (or makes) <data_dir>/link-signing.key and starts the dispatcher; links in payloads
// point at `base_url`. Fails when the key file cannot be read or written.
Result<ServerWebhooks> StartWebhooks(const ServerOptions& options,
                                     metadata::MetadataStore& metadata,
                                     const std::string& base_url);

}  // namespace trainyard::app
