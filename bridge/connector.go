package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/configupgrade"
	"golang.org/x/sync/semaphore"
	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/matrix"
	"maunium.net/go/mautrix/bridgev2/networkid"

	"wxbridge/bridge/mautrixfix"
	"wxbridge/bridge/wxdb"
	"wxbridge/protoclient"
)

var (
	_ bridgev2.NetworkConnector            = (*WeChatConnector)(nil)
	_ bridgev2.IdentifierValidatingNetwork = (*WeChatConnector)(nil)
	_ bridgev2.MaxFileSizeingNetwork       = (*WeChatConnector)(nil)
)

// exitAddressTaken is the exit code when the appservice address is taken (mautrix's own
// codes for startup failures are 16-50; 24 is not one of them).
const exitAddressTaken = 24

// homeserverIdleConns is how many idle connections to the homeserver the appservice keeps:
// more than the portals of one batch send on at once.
const homeserverIdleConns = 4 * portalConcurrency

// WeChatConnector is the bridge's network connector; one per process.
type WeChatConnector struct {
	Bridge *bridgev2.Bridge
	Config Config
	DB     *wxdb.Database

	// roomCreation bounds how many recent-chat rooms are created at once across all
	// logins: a thousand logins connecting must not send the homeserver a thousand
	// createRoom calls together.
	roomCreation *semaphore.Weighted
	// started is when Init ran: the replay check gives the homeserver time to finish what
	// the previous process sent (replay.go).
	started time.Time
	// tags follows the users' room tags (accountdata.go).
	tags tagWatchers
}

func (wc *WeChatConnector) Init(br *bridgev2.Bridge) {
	wc.Bridge = br
	wc.started = time.Now()
	// The SyncKey of a batch may only be saved once every event of the batch is stored
	// (README.md, "How it works"). With an event buffer, QueueRemoteEvent returns
	// before the portal has handled the event, so the bridge could not know; without
	// one it returns the real result.
	if br.Config.PortalEventBuffer != 0 {
		br.Log.Info().Int("configured", br.Config.PortalEventBuffer).
			Msg("Setting bridge.portal_event_buffer to 0: WeChat sync cursors are saved only after events are stored")
		br.Config.PortalEventBuffer = 0
	}
	mautrixfix.KeepIdleDBConnections(br)
	if mc, ok := br.Matrix.(*matrix.Connector); ok {
		// Before anything else starts: the database, the homeserver and WeChat are not
		// touched by a copy that must not run.
		if err := mautrixfix.AppserviceAddressTaken(mc); err != nil {
			br.Log.WithLevel(zerolog.FatalLevel).Err(err).
				Msg("Cannot listen for the homeserver: is another copy of the bridge running, or another program on appservice.port? Not starting")
			matrix.ExitError{ExitCode: exitAddressTaken}.Exit()
		}
		mautrixfix.KeepHomeserverConnections(mc.AS, homeserverIdleConns)
		mautrixfix.UseJoinedCache(mc)
		mautrixfix.ExplainRelayedReactions(mc, "WeChat has no reactions; write a message instead")
		mautrixfix.RetryRefusedBotInvites(mc)
	}
	wc.DB = wxdb.New(br.DB.Database, br.Log.With().Str("db_section", "wechat").Logger())
	wc.roomCreation = semaphore.NewWeighted(2)
	// Matrix.Init ran first, and its HTTP server starts later: the middleware is in time.
	if mc, ok := br.Matrix.(*matrix.Connector); ok && mc.AS != nil {
		mc.AS.Middleware = append(mc.AS.Middleware, wc.pendingMiddleware(mc))
	}
	// Here rather than in Start: the Matrix connector starts handling commands before the
	// network connector's Start, and mxmain's PostInit then wraps the processor
	// (mautrixfix.OwnCommandLogger).
	wc.registerCommands()
}

func (wc *WeChatConnector) Start(ctx context.Context) error {
	if err := wc.Config.parse(); err != nil {
		return err
	}
	if mc, ok := wc.Bridge.Matrix.(*matrix.Connector); ok && mc.Config != nil {
		if err := checkEncryption(&mc.Config.Encryption, buildHasEncryption); err != nil {
			return err
		}
	}
	if err := wc.DB.Upgrade(ctx); err != nil {
		return bridgev2.DBUpgradeError{Err: err, Section: "wechat"}
	}
	if err := mautrixfix.IndexLoginsByUser(ctx, wc.Bridge.DB); err != nil {
		return bridgev2.DBUpgradeError{Err: err, Section: "wechat"}
	}
	// Older leftovers stay until their login connects (recoverMatrixMessages says which
	// it did not send); those of a login that never comes back go after a day.
	if err := wc.DB.PendingMatrix.Prune(ctx, 24*time.Hour); err != nil {
		return err
	}
	go wc.prunePendingLoop(wc.Bridge.Log.WithContext(wc.Bridge.BackgroundCtx))
	return nil
}

func (wc *WeChatConnector) GetName() bridgev2.BridgeName {
	return bridgev2.BridgeName{
		DisplayName:          "WeChat",
		NetworkURL:           "https://wx.qq.com",
		NetworkIcon:          "",
		NetworkID:            "wechat",
		BeeperBridgeType:     "wechat",
		DefaultPort:          29350,
		DefaultCommandPrefix: "!wx",
	}
}

func (wc *WeChatConnector) GetConfig() (string, any, configupgrade.Upgrader) {
	return ExampleConfig, &wc.Config, configupgrade.SimpleUpgrader(upgradeConfig)
}

func (wc *WeChatConnector) GetBridgeInfoVersion() (info, caps int) { return 1, 2 }

func (wc *WeChatConnector) GetCapabilities() *bridgev2.NetworkGeneralCapabilities {
	return &bridgev2.NetworkGeneralCapabilities{Provisioning: provisioningCapabilities()}
}

func (wc *WeChatConnector) ValidateUserID(id networkid.UserID) bool { return len(id) > 0 }

func (wc *WeChatConnector) SetMaxFileSize(maxSize int64) {
	if maxSize > 0 && maxSize < wc.Config.Media.MaxDownloadSize {
		wc.Config.Media.MaxDownloadSize = maxSize
	}
}

// LoadUserLogin restores a stored session without any network I/O; Connect resumes it.
func (wc *WeChatConnector) LoadUserLogin(ctx context.Context, login *bridgev2.UserLogin) error {
	meta, _ := login.Metadata.(*UserLoginMetadata)
	wx, err := wc.newProtoClient()
	if err != nil {
		return err
	}
	c := newClient(wc, login, wx)
	if meta != nil && meta.Session != nil {
		if err := wx.Restore(meta.Session); err != nil {
			login.Log.Warn().Err(err).Msg("Stored WeChat session is unusable; log in again")
		}
	}
	login.Client = c
	return nil
}

func (wc *WeChatConnector) newProtoClient() (*protoclient.Client, error) {
	wx, err := protoclient.New(protoclient.Options{ServerURL: wc.Config.ServerURL})
	if err != nil {
		return nil, fmt.Errorf("network.server_url: %w", err)
	}
	return wx, nil
}
