# One image for the issuer and the verifier; the command picks the component.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY common ./common
COPY issuer ./issuer
COPY verifier ./verifier
COPY bin ./bin
COPY main.ts tsconfig.json ./
ENV NODE_ENV=production AKM_HOST=0.0.0.0 AKM_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080 8081
CMD ["npx", "tsx", "issuer/src/main.ts"]
