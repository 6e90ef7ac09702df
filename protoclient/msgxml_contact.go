package protoclient

import "fmt"

// Contact cards (MsgType 42) and friend requests (MsgType 37)

// cardMsg is a shared contact card. UserName is the permanent id (wxid_…) or, for
// strangers, an encrypted v1_…@stranger name.
type cardMsg struct {
	UserName        string
	NickName        string
	Alias           string
	Province        string
	City            string
	Sex             int
	Sign            string
	BigHeadImgURL   string
	SmallHeadImgURL string
	Scene           int
	CertFlag        int
	RegionCode      string
}

type xmlCard struct {
	UserName        string `xml:"username,attr"`
	NickName        string `xml:"nickname,attr"`
	Alias           string `xml:"alias,attr"`
	Province        string `xml:"province,attr"`
	City            string `xml:"city,attr"`
	Sex             string `xml:"sex,attr"`
	Sign            string `xml:"sign,attr"`
	BigHeadImgURL   string `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL string `xml:"smallheadimgurl,attr"`
	Scene           string `xml:"scene,attr"`
	CertFlag        string `xml:"certflag,attr"`
	RegionCode      string `xml:"regionCode,attr"`
}

// parseCard parses the content of a contact card. It fails unless the root `<msg>`
// carries a username.
func parseCard(content string) (*cardMsg, error) {
	var x xmlCard
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	if root != "msg" || trim(x.UserName) == "" {
		return nil, fmt.Errorf("card: %w: no username (root <%s>)", ErrMalformed, root)
	}
	return &cardMsg{
		UserName:        trim(x.UserName),
		NickName:        x.NickName,
		Alias:           trim(x.Alias),
		Province:        trim(x.Province),
		City:            trim(x.City),
		Sex:             atoi(x.Sex),
		Sign:            x.Sign,
		BigHeadImgURL:   trim(x.BigHeadImgURL),
		SmallHeadImgURL: trim(x.SmallHeadImgURL),
		Scene:           atoi(x.Scene),
		CertFlag:        atoi(x.CertFlag),
		RegionCode:      trim(x.RegionCode),
	}, nil
}

// friendRequestMsg is a parsed friend request. Accepting it needs the session UserName and
// Ticket of Message.RecommendInfo; the XML adds the permanent id and where the requester
// came from.
type friendRequestMsg struct {
	FromUserName     string // permanent id, wxid_…
	EncryptUserName  string // v1_…@stranger
	FromNickName     string
	Content          string // the greeting
	Ticket           string // v2_…@stranger
	Scene            int
	OpCode           int
	Alias            string
	ChatRoomUserName string // the group the requester found you in, …@chatroom
	Sign             string
	BigHeadImgURL    string
	SmallHeadImgURL  string
	Province         string
	City             string
	Sex              int
}

type xmlFriendRequest struct {
	FromUserName     string `xml:"fromusername,attr"`
	EncryptUserName  string `xml:"encryptusername,attr"`
	FromNickName     string `xml:"fromnickname,attr"`
	Content          string `xml:"content,attr"`
	Ticket           string `xml:"ticket,attr"`
	Scene            string `xml:"scene,attr"`
	OpCode           string `xml:"opcode,attr"`
	Alias            string `xml:"alias,attr"`
	ChatRoomUserName string `xml:"chatroomusername,attr"`
	Sign             string `xml:"sign,attr"`
	BigHeadImgURL    string `xml:"bigheadimgurl,attr"`
	SmallHeadImgURL  string `xml:"smallheadimgurl,attr"`
	Province         string `xml:"province,attr"`
	City             string `xml:"city,attr"`
	Sex              string `xml:"sex,attr"`
}

// parseFriendRequest parses the content of a friend request (MsgType 37). It fails
// unless the root `<msg>` names the requester by fromusername or encryptusername.
func parseFriendRequest(content string) (*friendRequestMsg, error) {
	var x xmlFriendRequest
	root, err := decodeXML(content, &x)
	if err != nil {
		return nil, fmt.Errorf("friend request: %w", err)
	}
	if root != "msg" || (trim(x.FromUserName) == "" && trim(x.EncryptUserName) == "") {
		return nil, fmt.Errorf("friend request: %w: no requester (root <%s>)", ErrMalformed, root)
	}
	return &friendRequestMsg{
		FromUserName:     trim(x.FromUserName),
		EncryptUserName:  trim(x.EncryptUserName),
		FromNickName:     x.FromNickName,
		Content:          x.Content,
		Ticket:           trim(x.Ticket),
		Scene:            atoi(x.Scene),
		OpCode:           atoi(x.OpCode),
		Alias:            trim(x.Alias),
		ChatRoomUserName: trim(x.ChatRoomUserName),
		Sign:             x.Sign,
		BigHeadImgURL:    trim(x.BigHeadImgURL),
		SmallHeadImgURL:  trim(x.SmallHeadImgURL),
		Province:         trim(x.Province),
		City:             trim(x.City),
		Sex:              atoi(x.Sex),
	}, nil
}
