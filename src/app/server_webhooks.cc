#include "app/server_webhooks.h"

#include "common/log.h"

namespace trainyard::app {

Result<ServerWebhooks> StartWebhooks(const ServerOptions& options,
                                     metadata::MetadataStore& metadata,
                                     const std::string& base_url) {
  ServerWebhooks webhooks;
  TY_ASSIGN_OR_RETURN(std::string key,
                      control::LoadOrCreateLinkKey(options.data_dir / "link-signing.key"));
  webhooks.link_signer = std::make_shared<const control::DownloadLinkSigner>(key);
  const WebhookSettings& settings = options.webhook;
  notify::WebhookDispatcherOptions dispatching;
  dispatching.sender.allow_private = settings.allow_private;
  dispatching.sender.timeout = std::chrono::seconds(settings.timeout_seconds);
  dispatching.first_retry = std::chrono::seconds(settings.first_retry_seconds);
  dispatching.max_retry = std::chrono::seconds(settings.max_retry_seconds);
  dispatching.retry_window = std::chrono::hours(settings.retry_hours);
  dispatching.links = {base_url, webhooks.link_signer.get(),
                       std::chrono::hours(settings.link_hours)};
  webhooks.dispatcher = std::make_unique<notify::WebhookDispatcher>(dispatching, metadata);
  webhooks.dispatcher->Start();
  if (settings.allow_private) {
    Logger("app").warn(
        "webhook targets on loopback, private and link-local addresses are allowed "
        "(webhook_allow_private)");
  }
  return webhooks;
}

}  // namespace trainyard::app
