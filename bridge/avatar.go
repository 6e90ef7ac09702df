package bridge

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"maunium.net/go/mautrix/bridgev2"
	"maunium.net/go/mautrix/bridgev2/networkid"

	"wxbridge/protoclient"
)

// maxAvatarSize bounds an avatar download; WeChat's are small JPEGs.
const maxAvatarSize = 5 << 20

// avatar describes a contact's or group's avatar for bridgev2. Its ID changes when the
// avatar does (the seq in HeadImgUrl, §6.1), so an unchanged avatar is not fetched again.
func (c *WeChatClient) avatar(stableID protoclient.WxID, headImgURL string) *bridgev2.Avatar {
	if headImgURL == "" {
		return nil
	}
	u, err := url.Parse(headImgURL)
	if err != nil {
		return nil
	}
	seq := u.Query().Get("seq")
	if seq == "" {
		seq = "0"
	}
	return &bridgev2.Avatar{
		ID: networkid.AvatarID(string(stableID) + "/" + seq),
		Get: func(ctx context.Context) ([]byte, error) {
			m, err := c.wx.DownloadAvatar(ctx, headImgURL, maxAvatarSize)
			if err != nil {
				return nil, err
			}
			defer m.Body.Close()
			data, err := io.ReadAll(m.Body)
			if err != nil {
				return nil, err
			}
			if len(data) == 0 {
				// WeChat answers an empty body now and then (§4.14); keep the old one.
				return nil, fmt.Errorf("empty avatar")
			}
			return data, nil
		},
	}
}
