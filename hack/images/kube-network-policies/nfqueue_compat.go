package networkpolicy

// Added by consul-chart's hack/build-network-policies.sh. The kernel of the machine the test
// cluster runs on is built without CONFIG_NFT_QUEUE, so nftables' native "queue" expression is
// refused (ENOENT) and no rule at all gets installed. The x_tables NFQUEUE target, reached
// through nft_compat (CONFIG_NFT_COMPAT, CONFIG_NETFILTER_XT_TARGET_NFQUEUE), hands packets to
// the same userspace queue.

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// nfqFlagBypass is NFQ_FLAG_BYPASS: accept packets while no program listens on the queue.
const nfqFlagBypass = 0x01

// nfqueueTarget is an NFQUEUE revision 3 target for one queue: struct xt_NFQ_info_v3
// {u16 queuenum; u16 queues_total; u16 flags;}, padded to 8 bytes.
func nfqueueTarget(num uint16, bypass bool) expr.Any {
	info := make([]byte, 8)
	binary.NativeEndian.PutUint16(info[0:], num)
	binary.NativeEndian.PutUint16(info[2:], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], nfqFlagBypass)
	}
	u := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &u}
}
