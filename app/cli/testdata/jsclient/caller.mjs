// Prints the caller identity's account as an ordinary program using the AWS
// SDK for JavaScript v3 sees it: credentials, region and endpoint from the
// SDK's default chains (AWS_ENDPOINT_URL, NODE_EXTRA_CA_CERTS).
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const who = await new STSClient({}).send(new GetCallerIdentityCommand({}));
console.log(who.Account);
